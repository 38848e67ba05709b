-- One counter shard a transaction, not a run (issue 21, item 2: PostgreSQL ingest, fourth step). Since 0010 each run
-- counted in shard `pk % 8`, so a create group of four runs (consecutive `pk`s) upserted four run_counts, four run_rollups
-- and four run_daily rows: over 10 s of ingest from 8 writers, 22,581 updates of each table for 22,928 creates in 5,778
-- statements. A run's shard is now stored with it (`runs.shard`), taken from its inserting transaction's id: a group's
-- runs share one shard, and its statement trigger upserts one row a table. Two groups committing together still land in
-- different shards seven times in eight. The runs from before keep `shard` NULL, which means `pk % 8` as before, so every
-- shard keeps the invariants of 0001 and 0010 (a run's changes always land in the shard it was counted in). Adding a
-- nullable column and then its default rewrites no row. The three insert triggers of 0011 become one, which upserts in
-- the order their names fired in (counts, daily, rollups).
ALTER TABLE runs ADD COLUMN shard SMALLINT;
ALTER TABLE runs ALTER COLUMN shard SET DEFAULT (txid_current() % 8)::smallint;

-- The update and delete triggers of 0001 as 0010 left them, each run now in the shard it was counted in.
CREATE OR REPLACE FUNCTION runs_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_first BOOLEAN := TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
        AND (OLD.tenant_id, OLD.workflow_name, OLD.status) <= (NEW.tenant_id, NEW.workflow_name, NEW.status));
BEGIN
    IF old_first THEN
        UPDATE run_counts SET n = n - 1
        WHERE shard = COALESCE(OLD.shard, OLD.pk % 8) AND tenant_id = OLD.tenant_id AND workflow_name = OLD.workflow_name AND status = OLD.status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO run_counts AS c (tenant_id, workflow_name, status, shard, n) VALUES (NEW.tenant_id, NEW.workflow_name, NEW.status, COALESCE(NEW.shard, NEW.pk % 8), 1)
        ON CONFLICT (tenant_id, workflow_name, status, shard) DO UPDATE SET n = c.n + 1;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT old_first THEN
        UPDATE run_counts SET n = n - 1
        WHERE shard = COALESCE(OLD.shard, OLD.pk % 8) AND tenant_id = OLD.tenant_id AND workflow_name = OLD.workflow_name AND status = OLD.status;
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
        WHERE shard = COALESCE(OLD.shard, OLD.pk % 8) AND tenant_id = OLD.tenant_id AND hour = substr(OLD.created_at, 1, 13) AND status = OLD.status AND dry = OLD.dry_run;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO run_rollups AS r (tenant_id, hour, status, dry, shard, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
        VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 13), NEW.status, NEW.dry_run, COALESCE(NEW.shard, NEW.pk % 8), 1, COALESCE(NEW.insights_created, 0),
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
        WHERE shard = COALESCE(OLD.shard, OLD.pk % 8) AND tenant_id = OLD.tenant_id AND hour = substr(OLD.created_at, 1, 13) AND status = OLD.status AND dry = OLD.dry_run;
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
        WHERE shard = COALESCE(OLD.shard, OLD.pk % 8) AND tenant_id = OLD.tenant_id AND day = substr(OLD.created_at, 1, 10) AND workflow_name = OLD.workflow_name
          AND model_name = COALESCE(OLD.model_name, '') AND status = OLD.status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO run_daily AS d (tenant_id, day, workflow_name, model_name, status, shard, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
        VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10), NEW.workflow_name, COALESCE(NEW.model_name, ''), NEW.status, COALESCE(NEW.shard, NEW.pk % 8), 1,
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
        WHERE shard = COALESCE(OLD.shard, OLD.pk % 8) AND tenant_id = OLD.tenant_id AND day = substr(OLD.created_at, 1, 10) AND workflow_name = OLD.workflow_name
          AND model_name = COALESCE(OLD.model_name, '') AND status = OLD.status;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION runs_derived_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_counts AS c (tenant_id, workflow_name, status, shard, n)
    SELECT tenant_id, workflow_name, status, COALESCE(shard, pk % 8), COUNT(*) FROM new_runs
    GROUP BY tenant_id, workflow_name, status, COALESCE(shard, pk % 8)
    ORDER BY tenant_id, workflow_name, status, COALESCE(shard, pk % 8)
    ON CONFLICT (tenant_id, workflow_name, status, shard) DO UPDATE SET n = c.n + excluded.n;

    INSERT INTO run_daily AS d (tenant_id, day, workflow_name, model_name, status, shard, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
    SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COALESCE(shard, pk % 8), COUNT(*),
           COUNT(*) FILTER (WHERE tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL),
           SUM(cost_estimated),
           LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
           LEAST(COALESCE(SUM(tokens_input::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(tokens_output::numeric), 0), 9223372036854775807)::bigint
    FROM new_runs
    GROUP BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COALESCE(shard, pk % 8)
    ORDER BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COALESCE(shard, pk % 8)
    ON CONFLICT (tenant_id, day, workflow_name, model_name, status, shard) DO UPDATE SET
        runs = d.runs + excluded.runs,
        usage_runs = d.usage_runs + excluded.usage_runs,
        estimated_runs = d.estimated_runs + excluded.estimated_runs,
        cost_usd = saturating_add(d.cost_usd, excluded.cost_usd),
        tokens_input = saturating_add(d.tokens_input, excluded.tokens_input),
        tokens_output = saturating_add(d.tokens_output, excluded.tokens_output);

    INSERT INTO run_rollups AS r (tenant_id, hour, status, dry, shard, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
    SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, COALESCE(shard, pk % 8), COUNT(*),
           LEAST(COALESCE(SUM(insights_created::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
           LEAST(COALESCE(SUM(tokens_input::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(tokens_output::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(duration_ms::numeric), 0), 9223372036854775807)::bigint,
           COUNT(duration_ms)
    FROM new_runs
    GROUP BY tenant_id, substr(created_at, 1, 13), status, dry_run, COALESCE(shard, pk % 8)
    ORDER BY tenant_id, substr(created_at, 1, 13), status, dry_run, COALESCE(shard, pk % 8)
    ON CONFLICT (tenant_id, hour, status, dry, shard) DO UPDATE SET
        runs = r.runs + excluded.runs,
        insights = saturating_add(r.insights, excluded.insights),
        cost_usd = saturating_add(r.cost_usd, excluded.cost_usd),
        tokens_input = saturating_add(r.tokens_input, excluded.tokens_input),
        tokens_output = saturating_add(r.tokens_output, excluded.tokens_output),
        duration_sum = saturating_add(r.duration_sum, excluded.duration_sum),
        duration_count = r.duration_count + excluded.duration_count;
    RETURN NULL;
END
$$;

DROP TRIGGER trg_runs_counts_insert ON runs;
DROP TRIGGER trg_runs_daily_insert ON runs;
DROP TRIGGER trg_runs_rollups_insert ON runs;
DROP FUNCTION runs_counts_insert();
DROP FUNCTION runs_daily_insert();
DROP FUNCTION runs_rollups_insert();
CREATE TRIGGER trg_runs_derived_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS new_runs
    FOR EACH STATEMENT EXECUTE FUNCTION runs_derived_insert();
