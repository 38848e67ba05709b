-- Retention deletes a run's webhook deliveries with it (each payload is a copy of the run), by the index on
-- (tenant_id, run_id). The deliveries of events that are not a run's (alert.firing, alert.resolved: run_id
-- '') go once sent and older than the retention period, found by this index, which holds those rows alone.
CREATE INDEX ix_webhook_deliveries_events ON webhook_deliveries (created_at) WHERE run_id = '';

-- The deliveries of runs deleted before (retention left them): once, here. A delivery is queued in the transaction
-- that ends its run, so one whose run is gone has outlived it.
DELETE FROM webhook_deliveries WHERE run_id <> ''
    AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.tenant_id = webhook_deliveries.tenant_id AND r.id = webhook_deliveries.run_id);
