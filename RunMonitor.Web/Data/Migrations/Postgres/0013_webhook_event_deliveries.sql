-- Retention deletes a purged run's webhook deliveries with it (their payload is a copy of the run) by the index on
-- (tenant_id, run_id). The deliveries of events that are not a run's (alert.firing, alert.resolved: run_id '') go
-- once sent and older than the retention period, found by this index, which holds those rows alone.
CREATE INDEX ix_webhook_deliveries_events ON webhook_deliveries (created_at) WHERE run_id = '';
