-- Issue 17. Workers: the engines behind the claims and leases, each seen by a heartbeat, a claim or a write for
-- a run it holds; `worker_hours` counts its claims and the failures of runs it held per UTC hour (yyyy-MM-ddTHH),
-- so "in 24 h" is a sum of at most 25 rows. Alerts: each configured rule's current state (one row per rule name,
-- written by the one evaluator that holds the lock) and the events it recorded when it started or stopped firing.
CREATE TABLE workers (
    tenant_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    host          TEXT,
    version       TEXT,
    workflows     TEXT,                -- JSON array of the workflows it said it runs, or NULL
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

CREATE INDEX ix_workers_last_seen ON workers (last_seen_at);

CREATE TABLE worker_hours (
    tenant_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    hour      TEXT NOT NULL,
    claimed   INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, name, hour)
) WITHOUT ROWID;

CREATE INDEX ix_worker_hours_hour ON worker_hours (hour);

CREATE TABLE alert_states (
    rule         TEXT NOT NULL PRIMARY KEY,
    tenant_id    TEXT,                 -- NULL: a rule over every tenant (shown to super admins)
    state        TEXT NOT NULL,        -- ok, firing
    value        REAL,
    threshold    REAL NOT NULL,
    evaluated_at TEXT NOT NULL,
    changed_at   TEXT NOT NULL
);

CREATE TABLE alert_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    rule      TEXT NOT NULL,
    tenant_id TEXT,
    state     TEXT NOT NULL,           -- firing, resolved
    value     REAL,
    threshold REAL NOT NULL,
    at        TEXT NOT NULL
);

CREATE INDEX ix_alert_events_tenant ON alert_events (tenant_id, id);
