-- Saved views (issue 19): a tenant's named list queries, shared with everyone of the tenant. `tenant_id` is '*' for
-- the views super admins keep (they see every tenant). `query` is the list's own query string, as RunFilter wrote it.
CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);
