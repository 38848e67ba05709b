-- New runs counted once a statement (issue 21, item 2: PostgreSQL ingest). A create group (`CreateGroups`) inserts many
-- runs in one statement; the row triggers of 0001 (sharded by 0010) upserted each derived row once a run, at commit, in
-- the order the runs were inserted, so two groups committing together took the same shard rows in orders of their own
-- and could deadlock (a second's wait, deadlock_timeout, then a retry). A statement trigger reads the statement's new
-- runs (a transition table), sums them by derived row and upserts each row once, in key order: groups that meet wait
-- for each other and never deadlock, and a group of 40 runs in one workflow writes 8 counter rows, not 40. A run still
-- lands in its own shard (`pk % 8`) with the same values, so every shard keeps the invariants of 0001 and 0010, and the
-- updates and deletes keep their deferred row triggers. The rows are locked from the INSERT to the commit, not only
-- for the commit: a create is one statement that commits by itself, so that is the same moment.
-- Sums saturate as the row triggers' do: a statement's sum is taken as NUMERIC (it cannot overflow) and capped
-- before saturating_add adds it (every value is 0 or more).
CREATE FUNCTION runs_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_counts AS c (tenant_id, workflow_name, status, shard, n)
    SELECT tenant_id, workflow_name, status, pk % 8, COUNT(*) FROM new_runs
    GROUP BY tenant_id, workflow_name, status, pk % 8
    ORDER BY tenant_id, workflow_name, status, pk % 8
    ON CONFLICT (tenant_id, workflow_name, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION runs_rollups_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_rollups AS r (tenant_id, hour, status, dry, shard, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
    SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, pk % 8, COUNT(*),
           LEAST(COALESCE(SUM(insights_created::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
           LEAST(COALESCE(SUM(tokens_input::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(tokens_output::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(duration_ms::numeric), 0), 9223372036854775807)::bigint,
           COUNT(duration_ms)
    FROM new_runs
    GROUP BY tenant_id, substr(created_at, 1, 13), status, dry_run, pk % 8
    ORDER BY tenant_id, substr(created_at, 1, 13), status, dry_run, pk % 8
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

CREATE FUNCTION runs_daily_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_daily AS d (tenant_id, day, workflow_name, model_name, status, shard, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
    SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, pk % 8, COUNT(*),
           COUNT(*) FILTER (WHERE tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL),
           SUM(cost_estimated),
           LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
           LEAST(COALESCE(SUM(tokens_input::numeric), 0), 9223372036854775807)::bigint,
           LEAST(COALESCE(SUM(tokens_output::numeric), 0), 9223372036854775807)::bigint
    FROM new_runs
    GROUP BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, pk % 8
    ORDER BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, pk % 8
    ON CONFLICT (tenant_id, day, workflow_name, model_name, status, shard) DO UPDATE SET
        runs = d.runs + excluded.runs,
        usage_runs = d.usage_runs + excluded.usage_runs,
        estimated_runs = d.estimated_runs + excluded.estimated_runs,
        cost_usd = saturating_add(d.cost_usd, excluded.cost_usd),
        tokens_input = saturating_add(d.tokens_input, excluded.tokens_input),
        tokens_output = saturating_add(d.tokens_output, excluded.tokens_output);
    RETURN NULL;
END
$$;

-- The names stay, so the triggers fire in the same order as before (by name: counts, daily, rollups).
DROP TRIGGER trg_runs_counts_insert ON runs;
CREATE TRIGGER trg_runs_counts_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS new_runs
    FOR EACH STATEMENT EXECUTE FUNCTION runs_counts_insert();
DROP TRIGGER trg_runs_rollups_insert ON runs;
CREATE TRIGGER trg_runs_rollups_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS new_runs
    FOR EACH STATEMENT EXECUTE FUNCTION runs_rollups_insert();
DROP TRIGGER trg_runs_daily_insert ON runs;
CREATE TRIGGER trg_runs_daily_insert AFTER INSERT ON runs REFERENCING NEW TABLE AS new_runs
    FOR EACH STATEMENT EXECUTE FUNCTION runs_daily_insert();
