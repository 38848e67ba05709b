-- Counters in eight shards (issue 21, item 2: PostgreSQL ingest). Every run of a tenant and workflow shared one
-- run_counts row, one run_rollups row per hour and one run_daily row per day; the deferred triggers lock them as a
-- transaction commits and hold them through its WAL flush, so concurrent creates queued on those rows one commit
-- at a time (about 1,100 writes/s whatever the number of writers). Each derived row now has a `shard`, the run's
-- `pk % 8`: consecutive runs update different rows and commit together (one WAL flush for several). A run's
-- changes always land in its own shard, so every shard keeps the invariants of 0001 (sums 0 or more, a shard
-- whose runs are gone back to exactly 0). Readers already SUM over the rows of a key; the primary keys end in
-- `shard`, so they still serve the readers' lookups by prefix.
ALTER TABLE run_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE run_counts DROP CONSTRAINT run_counts_pkey;
ALTER TABLE run_counts ADD PRIMARY KEY (tenant_id, workflow_name, status, shard);
ALTER TABLE run_rollups ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE run_rollups DROP CONSTRAINT run_rollups_pkey;
ALTER TABLE run_rollups ADD PRIMARY KEY (tenant_id, hour, status, dry, shard);
ALTER TABLE run_daily ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE run_daily DROP CONSTRAINT run_daily_pkey;
ALTER TABLE run_daily ADD PRIMARY KEY (tenant_id, day, workflow_name, model_name, status, shard);

-- The runs already counted move to their shards: the tables are recomputed from the runs, as after a bulk copy
-- (PostgresDialect.RebuildDerivedSql, as of this migration).
DELETE FROM run_counts;
INSERT INTO run_counts (tenant_id, workflow_name, status, shard, n)
SELECT tenant_id, workflow_name, status, pk % 8, COUNT(*) FROM runs GROUP BY tenant_id, workflow_name, status, pk % 8;
DELETE FROM run_rollups;
INSERT INTO run_rollups (tenant_id, hour, status, dry, shard, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, pk % 8, COUNT(*),
       LEAST(COALESCE(SUM(insights_created), 0), 9223372036854775807)::bigint,
       LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
       LEAST(COALESCE(SUM(tokens_input), 0), 9223372036854775807)::bigint,
       LEAST(COALESCE(SUM(tokens_output), 0), 9223372036854775807)::bigint,
       LEAST(COALESCE(SUM(duration_ms), 0), 9223372036854775807)::bigint,
       COUNT(duration_ms)
FROM runs GROUP BY tenant_id, substr(created_at, 1, 13), status, dry_run, pk % 8;
DELETE FROM run_daily;
INSERT INTO run_daily (tenant_id, day, workflow_name, model_name, status, shard, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, pk % 8, COUNT(*),
       COUNT(*) FILTER (WHERE tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL),
       SUM(cost_estimated)::bigint,
       LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
       LEAST(COALESCE(SUM(tokens_input), 0), 9223372036854775807)::bigint,
       LEAST(COALESCE(SUM(tokens_output), 0), 9223372036854775807)::bigint
FROM runs GROUP BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, pk % 8;

-- The triggers of 0001, each derived row now the run's shard's.
CREATE OR REPLACE FUNCTION runs_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_first BOOLEAN := TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
        AND (OLD.tenant_id, OLD.workflow_name, OLD.status) <= (NEW.tenant_id, NEW.workflow_name, NEW.status));
BEGIN
    IF old_first THEN
        UPDATE run_counts SET n = n - 1
        WHERE shard = OLD.pk % 8 AND tenant_id = OLD.tenant_id AND workflow_name = OLD.workflow_name AND status = OLD.status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO run_counts AS c (tenant_id, workflow_name, status, shard, n) VALUES (NEW.tenant_id, NEW.workflow_name, NEW.status, NEW.pk % 8, 1)
        ON CONFLICT (tenant_id, workflow_name, status, shard) DO UPDATE SET n = c.n + 1;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT old_first THEN
        UPDATE run_counts SET n = n - 1
        WHERE shard = OLD.pk % 8 AND tenant_id = OLD.tenant_id AND workflow_name = OLD.workflow_name AND status = OLD.status;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION runs_rollups_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_first BOOLEAN := TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
        AND (OLD.tenant_id, substr(OLD.created_at, 1, 13), OLD.status, OLD.dry_run)
         <= (NEW.tenant_id, substr(NEW.created_at, 1, 13), NEW.status, NEW.dry_run));
BEGIN
    IF old_first THEN
        UPDATE run_rollups SET
            runs = runs - 1,
            insights = saturating_add(insights, -COALESCE(OLD.insights_created, 0)),
            cost_usd = saturating_add(cost_usd, -COALESCE(OLD.cost_usd, 0.0)),
            tokens_input = saturating_add(tokens_input, -COALESCE(OLD.tokens_input, 0)),
            tokens_output = saturating_add(tokens_output, -COALESCE(OLD.tokens_output, 0)),
            duration_sum = saturating_add(duration_sum, -COALESCE(OLD.duration_ms, 0)),
            duration_count = duration_count - CASE WHEN OLD.duration_ms IS NOT NULL THEN 1 ELSE 0 END
        WHERE shard = OLD.pk % 8 AND tenant_id = OLD.tenant_id AND hour = substr(OLD.created_at, 1, 13) AND status = OLD.status AND dry = OLD.dry_run;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO run_rollups AS r (tenant_id, hour, status, dry, shard, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
        VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 13), NEW.status, NEW.dry_run, NEW.pk % 8, 1, COALESCE(NEW.insights_created, 0),
                COALESCE(NEW.cost_usd, 0.0), COALESCE(NEW.tokens_input, 0), COALESCE(NEW.tokens_output, 0),
                COALESCE(NEW.duration_ms, 0), CASE WHEN NEW.duration_ms IS NOT NULL THEN 1 ELSE 0 END)
        ON CONFLICT (tenant_id, hour, status, dry, shard) DO UPDATE SET
            runs = r.runs + 1,
            insights = saturating_add(r.insights, excluded.insights),
            cost_usd = saturating_add(r.cost_usd, excluded.cost_usd),
            tokens_input = saturating_add(r.tokens_input, excluded.tokens_input),
            tokens_output = saturating_add(r.tokens_output, excluded.tokens_output),
            duration_sum = saturating_add(r.duration_sum, excluded.duration_sum),
            duration_count = r.duration_count + excluded.duration_count;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT old_first THEN
        UPDATE run_rollups SET
            runs = runs - 1,
            insights = saturating_add(insights, -COALESCE(OLD.insights_created, 0)),
            cost_usd = saturating_add(cost_usd, -COALESCE(OLD.cost_usd, 0.0)),
            tokens_input = saturating_add(tokens_input, -COALESCE(OLD.tokens_input, 0)),
            tokens_output = saturating_add(tokens_output, -COALESCE(OLD.tokens_output, 0)),
            duration_sum = saturating_add(duration_sum, -COALESCE(OLD.duration_ms, 0)),
            duration_count = duration_count - CASE WHEN OLD.duration_ms IS NOT NULL THEN 1 ELSE 0 END
        WHERE shard = OLD.pk % 8 AND tenant_id = OLD.tenant_id AND hour = substr(OLD.created_at, 1, 13) AND status = OLD.status AND dry = OLD.dry_run;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION runs_daily_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_first BOOLEAN := TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
        AND (OLD.tenant_id, substr(OLD.created_at, 1, 10), OLD.workflow_name, COALESCE(OLD.model_name, ''), OLD.status)
         <= (NEW.tenant_id, substr(NEW.created_at, 1, 10), NEW.workflow_name, COALESCE(NEW.model_name, ''), NEW.status));
BEGIN
    IF old_first THEN
        UPDATE run_daily SET
            runs = runs - 1,
            usage_runs = usage_runs - CASE WHEN OLD.tokens_input IS NOT NULL OR OLD.tokens_output IS NOT NULL OR OLD.cost_usd IS NOT NULL THEN 1 ELSE 0 END,
            estimated_runs = estimated_runs - OLD.cost_estimated,
            cost_usd = saturating_add(cost_usd, -COALESCE(OLD.cost_usd, 0.0)),
            tokens_input = saturating_add(tokens_input, -COALESCE(OLD.tokens_input, 0)),
            tokens_output = saturating_add(tokens_output, -COALESCE(OLD.tokens_output, 0))
        WHERE shard = OLD.pk % 8 AND tenant_id = OLD.tenant_id AND day = substr(OLD.created_at, 1, 10) AND workflow_name = OLD.workflow_name
          AND model_name = COALESCE(OLD.model_name, '') AND status = OLD.status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO run_daily AS d (tenant_id, day, workflow_name, model_name, status, shard, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
        VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10), NEW.workflow_name, COALESCE(NEW.model_name, ''), NEW.status, NEW.pk % 8, 1,
                CASE WHEN NEW.tokens_input IS NOT NULL OR NEW.tokens_output IS NOT NULL OR NEW.cost_usd IS NOT NULL THEN 1 ELSE 0 END,
                NEW.cost_estimated, COALESCE(NEW.cost_usd, 0.0), COALESCE(NEW.tokens_input, 0), COALESCE(NEW.tokens_output, 0))
        ON CONFLICT (tenant_id, day, workflow_name, model_name, status, shard) DO UPDATE SET
            runs = d.runs + 1,
            usage_runs = d.usage_runs + excluded.usage_runs,
            estimated_runs = d.estimated_runs + excluded.estimated_runs,
            cost_usd = saturating_add(d.cost_usd, excluded.cost_usd),
            tokens_input = saturating_add(d.tokens_input, excluded.tokens_input),
            tokens_output = saturating_add(d.tokens_output, excluded.tokens_output);
    END IF;
    IF TG_OP = 'UPDATE' AND NOT old_first THEN
        UPDATE run_daily SET
            runs = runs - 1,
            usage_runs = usage_runs - CASE WHEN OLD.tokens_input IS NOT NULL OR OLD.tokens_output IS NOT NULL OR OLD.cost_usd IS NOT NULL THEN 1 ELSE 0 END,
            estimated_runs = estimated_runs - OLD.cost_estimated,
            cost_usd = saturating_add(cost_usd, -COALESCE(OLD.cost_usd, 0.0)),
            tokens_input = saturating_add(tokens_input, -COALESCE(OLD.tokens_input, 0)),
            tokens_output = saturating_add(tokens_output, -COALESCE(OLD.tokens_output, 0))
        WHERE shard = OLD.pk % 8 AND tenant_id = OLD.tenant_id AND day = substr(OLD.created_at, 1, 10) AND workflow_name = OLD.workflow_name
          AND model_name = COALESCE(OLD.model_name, '') AND status = OLD.status;
    END IF;
    RETURN NULL;
END
$$;
