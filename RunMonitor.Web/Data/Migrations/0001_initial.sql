-- Runs, their planned and reported steps, and their errors list. Times are UTC ISO-8601 text
-- (yyyy-MM-ddTHH:mm:ss.fffZ), which sorts the same as the instants it names. Ordinary rowid tables:
-- rows carry JSON and stack traces, too wide for WITHOUT ROWID b-trees, and new rows append.
CREATE TABLE runs (
    pk                INTEGER PRIMARY KEY, -- stable row number: tie-breaker for paging, key of the name index
    id                TEXT NOT NULL UNIQUE,
    tenant_id         TEXT NOT NULL,
    workflow_name     TEXT NOT NULL,
    name              TEXT,
    status            TEXT NOT NULL,
    dry_run           INTEGER NOT NULL DEFAULT 0,
    trigger_payload   TEXT,
    context           TEXT,
    error_message     TEXT,
    error_type        TEXT,
    error_stack       TEXT,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    completed_at      TEXT,
    duration_ms       INTEGER,
    targets_matched   INTEGER,
    targets_processed INTEGER,
    targets_skipped   INTEGER,
    insights_created  INTEGER,
    model_profile     TEXT,
    model_provider    TEXT,
    model_name        TEXT,
    tokens_input      INTEGER,
    tokens_output     INTEGER,
    cost_usd          REAL,
    cost_estimated    INTEGER NOT NULL DEFAULT 0,
    layer_hash        TEXT,
    retry_of          TEXT,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    steps_total       INTEGER NOT NULL DEFAULT 0,
    steps_completed   INTEGER NOT NULL DEFAULT 0,
    updated_at        TEXT NOT NULL
);

-- One index per filter and sort the list offers, each scoped by tenant first (every query is),
-- and the same without the tenant for the super admin's all-tenant view.
CREATE INDEX ix_runs_tenant_created          ON runs (tenant_id, created_at);
CREATE INDEX ix_runs_tenant_status_created   ON runs (tenant_id, status, created_at);
CREATE INDEX ix_runs_tenant_workflow_created ON runs (tenant_id, workflow_name, created_at);
CREATE INDEX ix_runs_tenant_wf_status        ON runs (tenant_id, workflow_name, status, created_at);
CREATE INDEX ix_runs_tenant_duration         ON runs (tenant_id, duration_ms);
CREATE INDEX ix_runs_tenant_name             ON runs (tenant_id, name COLLATE NOCASE);
CREATE INDEX ix_runs_created                 ON runs (created_at);
CREATE INDEX ix_runs_status_created          ON runs (status, created_at);
CREATE INDEX ix_runs_workflow_created        ON runs (workflow_name, created_at);
CREATE INDEX ix_runs_duration                ON runs (duration_ms);
CREATE INDEX ix_runs_retry_of                ON runs (retry_of) WHERE retry_of IS NOT NULL;

CREATE TABLE run_errors (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    topic  TEXT NOT NULL,
    error  TEXT NOT NULL,
    node   TEXT,
    UNIQUE (run_id, seq)
);

CREATE TABLE steps (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id       TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    skill_id      TEXT,
    status        TEXT NOT NULL,
    started_at    TEXT,
    completed_at  TEXT,
    duration_ms   INTEGER,
    cache_hit     INTEGER NOT NULL DEFAULT 0,
    attempt       INTEGER NOT NULL DEFAULT 1,
    input         TEXT,
    output        TEXT,
    error_message TEXT,
    error_stack   TEXT,
    updated_at    TEXT NOT NULL,
    UNIQUE (run_id, step_id)
);

CREATE INDEX ix_steps_run_seq ON steps (run_id, seq);

-- The workflows each tenant has reported, for the filter's choices without scanning runs.
CREATE TABLE workflows (
    tenant_id     TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, workflow_name)
) WITHOUT ROWID;
