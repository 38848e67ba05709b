-- A retention pass records how it ended: when it finished, or why it failed, and when its last batch went in, so that
-- another instance takes over from a pass that failed or stopped moving, and /admin tells a running pass from one
-- that ended. The passes recorded before ended (they were recorded whole).
ALTER TABLE retention_purges ADD COLUMN finished_at TEXT;
ALTER TABLE retention_purges ADD COLUMN progress_at TEXT;
ALTER TABLE retention_purges ADD COLUMN failure TEXT;
UPDATE retention_purges SET finished_at = ran_at, progress_at = ran_at;
