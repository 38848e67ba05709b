-- Issue 4: the worker lease's length (so every write can renew it) and the webhook outbox.
ALTER TABLE runs ADD COLUMN lease_seconds INTEGER;

-- The sweeper looks for running runs whose lease ran out.
CREATE INDEX ix_runs_lease ON runs (lease_expires_at) WHERE status = 'running' AND lease_expires_at IS NOT NULL;

-- One row per (terminal transition, configured webhook), written in the transaction that changed
-- the status, sent later by the dispatcher so a slow receiver never slows ingest.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           TEXT NOT NULL,
    tenant_id        TEXT NOT NULL,
    event            TEXT NOT NULL,
    webhook_index    INTEGER NOT NULL,
    url              TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',   -- pending, delivered, failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);

CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_run ON webhook_deliveries (run_id);
