-- Issue 15. Activity: who did what to a run, one row per change (created, claimed, retried, retry-of, cancel-requested,
-- cancelled, lease-expired, bulk, a status reported), deleted with its run. `actor`: a key's id and tenant, `loopback`,
-- a worker's name or `system`.
CREATE TABLE run_activity (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT,
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_run_activity_run ON run_activity (tenant_id, run_id, id);

-- Bulk operations: one row per operation (`tenant_id` '*' for a super admin's over every tenant), its counters kept in
-- the transaction of each batch. Its runs are frozen at start as its items, each acted on once: an item leaves
-- `pending` in the transaction that acts on its run.
CREATE TABLE bulk_operations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    action       TEXT NOT NULL,
    status       TEXT NOT NULL,
    filter       TEXT,
    matched      INTEGER NOT NULL,
    eligible     INTEGER NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0,
    succeeded    INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX ix_bulk_operations_tenant ON bulk_operations (tenant_id, id);
CREATE INDEX ix_bulk_operations_running ON bulk_operations (id) WHERE status = 'running';

CREATE TABLE bulk_items (
    operation_id INTEGER NOT NULL REFERENCES bulk_operations (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    reason       TEXT,
    new_run_id   TEXT,
    PRIMARY KEY (operation_id, seq)
);
CREATE INDEX ix_bulk_items_pending ON bulk_items (operation_id, seq) WHERE state = 'pending';
CREATE INDEX ix_bulk_items_errors ON bulk_items (operation_id, seq) WHERE state IN ('skipped', 'failed');
