-- Run ids belong to their tenant (issue 20): the same id may exist in two tenants, and neither learns of the other.
-- Before this file runs, TenantScopedRunIds has rebuilt runs (UNIQUE (tenant_id, id) instead of UNIQUE (id)) and
-- steps, run_errors and artifacts (tenant_id in each, their foreign key (tenant_id, run_id)), keeping every column,
-- index and trigger. Here the indexes that look a run's children up by its id take the tenant first too.
DROP INDEX ix_steps_run_seq;
CREATE INDEX ix_steps_run_seq ON steps (tenant_id, run_id, seq);

DROP INDEX ix_artifacts_run_step;
CREATE INDEX ix_artifacts_run_step ON artifacts (tenant_id, run_id, step_id, created_at);

-- A super admin names a run by id alone (every tenant): found through this, and told when the id is in several.
CREATE INDEX ix_runs_id ON runs (id);

DROP INDEX ix_webhook_deliveries_run;
CREATE INDEX ix_webhook_deliveries_run ON webhook_deliveries (tenant_id, run_id);
