-- Files a step produced. The bytes live outside the database, content-addressed by sha256 in
-- `<database dir>/artifacts/ab/cdef…` (see ArtifactStore); a row holds only what describes them.
-- Several rows may share one file (same bytes uploaded twice); the file goes when no row names it.
CREATE TABLE artifacts (
    id           TEXT PRIMARY KEY,
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id      TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE INDEX ix_artifacts_run_step ON artifacts (run_id, step_id, created_at);
CREATE INDEX ix_artifacts_sha256   ON artifacts (sha256);
