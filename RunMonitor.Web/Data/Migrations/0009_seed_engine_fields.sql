-- What the two engines RunMonitor grew from write of their own runs (SPEC, "the seeds' own engines"):
-- omeercs's run version, trigger type, the run an update revises, its error's code, failed step and time; its
-- steps' input hash, output artifact ids and error code, attempt, time and details (JSON). All nullable and new
-- columns only: ALTER TABLE … ADD COLUMN rewrites no row.
ALTER TABLE runs ADD COLUMN workflow_version TEXT;
ALTER TABLE runs ADD COLUMN trigger_type TEXT;
ALTER TABLE runs ADD COLUMN base_run_id TEXT;
ALTER TABLE runs ADD COLUMN error_code TEXT;
ALTER TABLE runs ADD COLUMN error_failed_step_id TEXT;
ALTER TABLE runs ADD COLUMN error_timestamp TEXT;

ALTER TABLE steps ADD COLUMN input_hash TEXT;
ALTER TABLE steps ADD COLUMN output_artifact_ids TEXT; -- a JSON array of strings
ALTER TABLE steps ADD COLUMN error_code TEXT;
ALTER TABLE steps ADD COLUMN error_attempt INTEGER;
ALTER TABLE steps ADD COLUMN error_timestamp TEXT;
ALTER TABLE steps ADD COLUMN error_details TEXT;      -- a JSON object

-- Zos stores errors whose topic is null (a failure of the whole layer, not of one target): SQLite cannot drop a
-- NOT NULL, so the table is made again with the same rows.
CREATE TABLE run_errors_0009 (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    topic  TEXT,
    error  TEXT NOT NULL,
    node   TEXT,
    UNIQUE (run_id, seq)
);
INSERT INTO run_errors_0009 (run_id, seq, topic, error, node) SELECT run_id, seq, topic, error, node FROM run_errors;
DROP TABLE run_errors;
ALTER TABLE run_errors_0009 RENAME TO run_errors;
