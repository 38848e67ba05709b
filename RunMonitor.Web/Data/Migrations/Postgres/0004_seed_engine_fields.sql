-- SQLite's 0009: what Zos and omeercs write of their own runs (SPEC, "the seeds' own engines").
ALTER TABLE runs
    ADD COLUMN workflow_version     TEXT COLLATE "C",
    ADD COLUMN trigger_type         TEXT COLLATE "C",
    ADD COLUMN base_run_id          TEXT COLLATE "C",
    ADD COLUMN error_code           TEXT COLLATE "C",
    ADD COLUMN error_failed_step_id TEXT COLLATE "C",
    ADD COLUMN error_timestamp      TEXT COLLATE "C";

ALTER TABLE steps
    ADD COLUMN input_hash          TEXT COLLATE "C",
    ADD COLUMN output_artifact_ids TEXT COLLATE "C", -- a JSON array of strings
    ADD COLUMN error_code          TEXT COLLATE "C",
    ADD COLUMN error_attempt       BIGINT,
    ADD COLUMN error_timestamp     TEXT COLLATE "C",
    ADD COLUMN error_details       TEXT COLLATE "C"; -- a JSON object

-- Zos's errors may have no topic (a failure of the whole layer).
ALTER TABLE run_errors ALTER COLUMN topic DROP NOT NULL;
