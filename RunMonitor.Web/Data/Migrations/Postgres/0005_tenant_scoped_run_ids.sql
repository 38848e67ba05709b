-- Run ids belong to their tenant (issue 20), as SQLite's 0010: the same id may exist in two tenants. runs is unique
-- by (tenant_id, id); steps and run_errors carry tenant_id; every child's foreign key is (tenant_id, run_id).
ALTER TABLE steps ADD COLUMN tenant_id TEXT COLLATE "C";
UPDATE steps SET tenant_id = r.tenant_id FROM runs r WHERE r.id = steps.run_id;
ALTER TABLE steps ALTER COLUMN tenant_id SET NOT NULL;

ALTER TABLE run_errors ADD COLUMN tenant_id TEXT COLLATE "C";
UPDATE run_errors SET tenant_id = r.tenant_id FROM runs r WHERE r.id = run_errors.run_id;
ALTER TABLE run_errors ALTER COLUMN tenant_id SET NOT NULL;

ALTER TABLE steps DROP CONSTRAINT steps_run_id_fkey;
ALTER TABLE run_errors DROP CONSTRAINT run_errors_run_id_fkey;
ALTER TABLE artifacts DROP CONSTRAINT artifacts_run_id_fkey;
ALTER TABLE steps DROP CONSTRAINT steps_run_id_step_id_key;
ALTER TABLE run_errors DROP CONSTRAINT run_errors_run_id_seq_key;
ALTER TABLE runs DROP CONSTRAINT runs_id_key;

ALTER TABLE runs ADD CONSTRAINT runs_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE steps ADD CONSTRAINT steps_tenant_id_run_id_step_id_key UNIQUE (tenant_id, run_id, step_id);
ALTER TABLE run_errors ADD CONSTRAINT run_errors_tenant_id_run_id_seq_key UNIQUE (tenant_id, run_id, seq);
ALTER TABLE steps ADD CONSTRAINT steps_tenant_id_run_id_fkey
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE run_errors ADD CONSTRAINT run_errors_tenant_id_run_id_fkey
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE artifacts ADD CONSTRAINT artifacts_tenant_id_run_id_fkey
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE;

DROP INDEX ix_steps_run_seq;
CREATE INDEX ix_steps_run_seq ON steps (tenant_id, run_id, seq);
DROP INDEX ix_artifacts_run_step;
CREATE INDEX ix_artifacts_run_step ON artifacts (tenant_id, run_id, step_id, created_at, rowid);
DROP INDEX ix_webhook_deliveries_run;
CREATE INDEX ix_webhook_deliveries_run ON webhook_deliveries (tenant_id, run_id);

-- A super admin names a run by id alone (every tenant): found through this, and told when the id is in several.
CREATE INDEX ix_runs_id ON runs (id);
