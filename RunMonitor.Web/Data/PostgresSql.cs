namespace RunMonitor.Web.Data;

/// PostgreSQL statements with no SQLite twin in the stores.
public static class PostgresSql
{
    /// Recomputes what the triggers of Migrations/Postgres/0001 keep (counters, hourly and daily rollups)
    /// from the runs: after a bulk copy that loaded runs with the triggers disabled. The same numbers as
    /// SQLite's backfills in migrations 0005 and 0006; value sums saturate at the largest BIGINT (cost: the largest finite double),
    /// as the triggers' sums do, summed as NUMERIC so they never overflow on the way (a SUM of DOUBLE
    /// PRECISION raises "value out of range: overflow"). The trigram index
    /// on names needs no rebuild: PostgreSQL maintains it.
    public const string RebuildDerived = """
        DELETE FROM run_counts;
        INSERT INTO run_counts (tenant_id, workflow_name, status, n)
        SELECT tenant_id, workflow_name, status, COUNT(*) FROM runs GROUP BY tenant_id, workflow_name, status;
        DELETE FROM run_rollups;
        INSERT INTO run_rollups (tenant_id, hour, status, dry, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
        SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, COUNT(*),
               LEAST(COALESCE(SUM(insights_created), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
               LEAST(COALESCE(SUM(tokens_input), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(tokens_output), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(duration_ms), 0), 9223372036854775807)::bigint,
               COUNT(duration_ms)
        FROM runs GROUP BY tenant_id, substr(created_at, 1, 13), status, dry_run;
        DELETE FROM run_daily;
        INSERT INTO run_daily (tenant_id, day, workflow_name, model_name, status, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
        SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COUNT(*),
               COUNT(*) FILTER (WHERE tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL),
               SUM(cost_estimated)::bigint,
               LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
               LEAST(COALESCE(SUM(tokens_input), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(tokens_output), 0), 9223372036854775807)::bigint
        FROM runs GROUP BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status;
        """;
}
