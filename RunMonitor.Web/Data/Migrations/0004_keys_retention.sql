-- API keys made by `keys create` (configuration keys live in configuration only). Only the SHA-256
-- of a key is stored; `prefix` is its first characters, to recognise it in `keys list`.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    tenant_id  TEXT,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) WITHOUT ROWID;

-- One row per retention pass, so the admin page can say when it last ran and what it removed.
CREATE TABLE retention_purges (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ran_at        TEXT NOT NULL,
    cutoff        TEXT NOT NULL,
    runs_deleted  INTEGER NOT NULL,
    steps_deleted INTEGER NOT NULL
);

-- Retention finds finished runs by completion time.
CREATE INDEX ix_runs_completed ON runs (completed_at) WHERE completed_at IS NOT NULL;
