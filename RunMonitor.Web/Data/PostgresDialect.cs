using System.Collections.Concurrent;
using System.Data;
using System.Text.RegularExpressions;
using Dapper;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Data;

/// PostgreSQL's spelling: row locks for writes that several instances make at once, array parameters for lists,
/// the pg_trgm index for names, sums that saturate through NUMERIC, artifact bytes as rows every instance reads.
public sealed partial class PostgresDialect : ISqlDialect
{
    public static readonly PostgresDialect Instance = new();

    private static readonly ConcurrentDictionary<string, string> ArrayLists = new();

    /// Npgsql passes a list as one array parameter, compared with `= ANY(@List)` (and `NOT IN` with `<> ALL(@List)`).
    public string Lists(string sql) =>
        ArrayLists.GetOrAdd(sql, s => InList().Replace(s, m => m.Groups[1].Success ? $"<> ALL({m.Groups[2].Value})" : $"= ANY({m.Groups[2].Value})"));

    [GeneratedRegex(@"\b(NOT\s+)?IN\s+(@\w+)", RegexOptions.CultureInvariant)]
    private static partial Regex InList();

    public string ForUpdate => " FOR UPDATE";

    public string SkipLocked => " FOR UPDATE SKIP LOCKED";

    /// One statement and one round trip, atomic without a transaction around it (`Database.WriteStatementAsync`): what
    /// a create wrote in five statements, each a round trip, inside BEGIN and COMMIT. Nothing but the run's INSERT is
    /// done when its id is taken (`r` is empty). The workflow row is shared by every run of the workflow: an upsert of it
    /// held its lock to the commit and creates went through one at a time (pg_stat_statements: 18.8 ms a call at 8
    /// writers), so it is inserted only when missing (ON CONFLICT alone would wait for whoever is moving the row on) and
    /// moved on only when no other transaction holds it (that one is moving it to the same moment: `last_seen_at` is at
    /// most that commit's few milliseconds behind the newest run).
    public string CreateRun => CreateRunSql;

    private const string CreateRunSql = $"""
        WITH r AS ({RunWrites.InsertRun}
            RETURNING tenant_id, id, workflow_name),
        s AS (INSERT INTO steps (tenant_id, run_id, step_id, seq, skill_id, status, updated_at)
            SELECT r.tenant_id, r.id, p.step_id, p.n - 1, p.skill_id, 'pending', @UpdatedAt
            FROM r CROSS JOIN unnest(@StepIds::text[], @StepSkills::text[]) WITH ORDINALITY AS p (step_id, skill_id, n)),
        e AS (INSERT INTO run_errors (tenant_id, run_id, seq, topic, error, node)
            SELECT r.tenant_id, r.id, x.n - 1, x.topic, x.error, x.node
            FROM r CROSS JOIN unnest(@ErrorTopics::text[], @ErrorTexts::text[], @ErrorNodes::text[]) WITH ORDINALITY AS x (topic, error, node, n)),
        a AS (INSERT INTO run_activity (tenant_id, run_id, at, actor, action, detail)
            SELECT r.tenant_id, r.id, @ActivityAt, @Actor, @Action, @Detail FROM r),
        w AS (INSERT INTO workflows (tenant_id, workflow_name, last_seen_at)
            SELECT r.tenant_id, r.workflow_name, @UpdatedAt FROM r
            WHERE NOT EXISTS (SELECT 1 FROM workflows AS k WHERE k.tenant_id = r.tenant_id AND k.workflow_name = r.workflow_name)
            ON CONFLICT (tenant_id, workflow_name) DO NOTHING),
        seen AS (UPDATE workflows AS f SET last_seen_at = @UpdatedAt
            FROM (SELECT o.tenant_id, o.workflow_name FROM workflows AS o JOIN r ON r.tenant_id = o.tenant_id AND r.workflow_name = o.workflow_name
                  WHERE o.last_seen_at < @UpdatedAt FOR UPDATE OF o SKIP LOCKED) AS free
            WHERE f.tenant_id = free.tenant_id AND f.workflow_name = free.workflow_name)
        SELECT COUNT(*) FROM r
        """;

    /// The creates of a group (`CreateGroups`) as one statement: `CreateRun` for many runs, each table's rows as arrays
    /// through `unnest`, answering the tenant and id of every run inserted (a run whose id is taken in its tenant is
    /// left out, with its steps, errors and activity). With `GroupParts.Workflows`, each workflow of the group is
    /// inserted or moved on once, to its newest run's moment, as `CreateRun` does. A part left out is a table the
    /// statement neither opens nor locks: every statement opened `run_errors` and both `workflows` writes even when no run
    /// had an error and the workflow had been moved on a moment before (docs/PERFORMANCE.md, "PostgreSQL creates").
    public string CreateRuns(GroupParts parts) => CreateRunsSql[(int)(parts & GroupParts.All)];

    private static readonly string[] CreateRunsSql = [.. Enumerable.Range(0, (int)GroupParts.All + 1).Select(p => CreateRunsFor((GroupParts)p))];

    private static string CreateRunsFor(GroupParts parts)
    {
        var at = RunWrites.ColumnsFrom(parts);
        var errors = parts.HasFlag(GroupParts.Errors) ? $"""
            e AS (INSERT INTO run_errors ({ArrayColumn<RunErrorRow>.Names(RunWrites.ErrorColumns)})
                SELECT x.* FROM {ArrayColumn<RunErrorRow>.Unnest(RunWrites.ErrorColumns, "x", at.Errors)}
                JOIN r ON r.tenant_id = x.tenant_id AND r.id = x.run_id),

            """ : "";
        var workflows = parts.HasFlag(GroupParts.Workflows) ? """
            ,
            g AS (SELECT tenant_id, workflow_name, MAX(updated_at) AS at FROM r GROUP BY tenant_id, workflow_name),
            w AS (INSERT INTO workflows (tenant_id, workflow_name, last_seen_at)
                SELECT g.tenant_id, g.workflow_name, g.at FROM g
                WHERE NOT EXISTS (SELECT 1 FROM workflows AS k WHERE k.tenant_id = g.tenant_id AND k.workflow_name = g.workflow_name)
                ON CONFLICT (tenant_id, workflow_name) DO NOTHING),
            seen AS (UPDATE workflows AS f SET last_seen_at = free.at
                FROM (SELECT o.tenant_id, o.workflow_name, g.at FROM workflows AS o JOIN g ON g.tenant_id = o.tenant_id AND g.workflow_name = o.workflow_name
                      WHERE o.last_seen_at < g.at FOR UPDATE OF o SKIP LOCKED) AS free
                WHERE f.tenant_id = free.tenant_id AND f.workflow_name = free.workflow_name)
            """ : "";
        return $"""
            WITH r AS (INSERT INTO runs ({ArrayColumn<RunRow>.Names(RunWrites.RunColumns)})
                SELECT * FROM {ArrayColumn<RunRow>.Unnest(RunWrites.RunColumns, "i", 1)}
                ON CONFLICT (tenant_id, id) DO NOTHING
                RETURNING tenant_id, id, workflow_name, updated_at),
            s AS (INSERT INTO steps ({ArrayColumn<StepRow>.Names(RunWrites.StepColumns)})
                SELECT p.* FROM {ArrayColumn<StepRow>.Unnest(RunWrites.StepColumns, "p", at.Steps)}
                JOIN r ON r.tenant_id = p.tenant_id AND r.id = p.run_id),
            {errors}a AS (INSERT INTO run_activity ({ArrayColumn<ActivityRow>.Names(RunWrites.ActivityColumns)})
                SELECT y.* FROM {ArrayColumn<ActivityRow>.Unnest(RunWrites.ActivityColumns, "y", at.Activity)}
                JOIN r ON r.tenant_id = y.tenant_id AND r.id = y.run_id){workflows}
            SELECT tenant_id AS TenantId, id AS Id FROM r
            """;
    }

    public string? LockKey => "SELECT pg_advisory_xact_lock(hashtext(@LockKey))";

    // PostgreSQL sorts NULL above every value: NULLS LAST reads the (duration_ms, pk) index one way and the
    // (duration_ms DESC NULLS LAST, pk DESC) one the other.
    public string DurationOrder(bool descending) => descending ? "duration_ms DESC NULLS LAST, pk DESC" : "duration_ms ASC NULLS LAST, pk ASC";

    /// The pg_trgm GIN index serves `name ILIKE '%q%'`, and `name ~* pattern` for a `q` with a letter outside ASCII
    /// (`ILIKE` on the C-collated column folds ASCII only; `NameFolding`); the planner picks it or a newest-first scan
    /// from its estimates.
    public Task<NameClause> NameClauseAsync(IDbConnection connection, string q, string escaped, DynamicParameters p, int driveLimit)
    {
        if (NameFolding.Needed(q))
        {
            p.Add("QPattern", NameFolding.Regex(q));
            return Task.FromResult(new NameClause("name ~* @QPattern", NameMatch.None));
        }
        p.Add("QLike", "%" + escaped + "%");
        return Task.FromResult(new NameClause("name ILIKE @QLike", NameMatch.None));
    }

    // SUM of bigint is numeric here (it cannot overflow), so it saturates with LEAST; costs are summed as numeric
    // too, as a sum of doubles past 1.8e308 is an error here, not infinity.
    private const string StatsSql = """
        SELECT CAST(COALESCE(SUM(runs), 0) AS BIGINT) AS Total,
               CAST(COALESCE(SUM(CASE WHEN status = 'completed' THEN runs END), 0) AS BIGINT) AS Completed,
               CAST(COALESCE(SUM(CASE WHEN status = 'partial' THEN runs END), 0) AS BIGINT) AS Partial,
               CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN runs END), 0) AS BIGINT) AS Failed,
               CAST(COALESCE(SUM(CASE WHEN status = 'cancelled' THEN runs END), 0) AS BIGINT) AS Cancelled,
               CAST(COALESCE(SUM(CASE WHEN dry = 1 OR status = 'dry' THEN runs END), 0) AS BIGINT) AS Dry,
               CAST(LEAST(COALESCE(SUM(insights), 0), 9.0e18) AS BIGINT) AS Insights,
               CAST(LEAST(COALESCE(SUM(CAST(cost_usd AS NUMERIC)), 0), 1.0e308) AS DOUBLE PRECISION) AS CostUsd,
               CAST(LEAST(COALESCE(SUM(tokens_input), 0), 9.0e18) AS BIGINT) AS TokensInput,
               CAST(LEAST(COALESCE(SUM(tokens_output), 0), 9.0e18) AS BIGINT) AS TokensOutput,
               CASE WHEN SUM(duration_count) > 0 THEN CAST(SUM(duration_sum) AS DOUBLE PRECISION) / CAST(SUM(duration_count) AS DOUBLE PRECISION) END AS AvgDurationMs
        FROM run_rollups WHERE {0} hour >= @SinceHour;
        SELECT CAST(COALESCE(SUM(CASE WHEN status = 'queued' THEN n END), 0) AS BIGINT) AS QueuedNow,
               CAST(COALESCE(SUM(CASE WHEN status = 'running' THEN n END), 0) AS BIGINT) AS RunningNow
        FROM run_counts WHERE {0} status IN ('queued', 'running');
        SELECT MIN(created_at) FROM runs WHERE {0} status = 'queued';
        """;

    private static readonly string StatsTenant = string.Format(StatsSql, "tenant_id = @Tenant AND");
    private static readonly string StatsAll = string.Format(StatsSql, "");

    public string Stats(bool allTenants) => allTenants ? StatsAll : StatsTenant;

    // A LATERAL subquery with OFFSET 0 is not pulled up into a join the planner may reorder: each run's steps are read
    // by its key, in the runs' order (the plan it chose for a plain join read all 3.2 million steps).
    public string SlowestSkills { get; } = Runs.AdminStore.SlowestSkillsFor("""
        LATERAL (SELECT skill_id, duration_ms FROM steps AS x
                 WHERE x.tenant_id = r.tenant_id AND x.run_id = r.id AND x.duration_ms IS NOT NULL AND x.skill_id IS NOT NULL
                 OFFSET 0) AS s
        """);

    public string UsageByTenantModel => """
        SELECT tenant_id AS TenantId, NULLIF(model_name, '') AS ModelName, SUM(usage_runs) AS Runs,
               CAST(LEAST(SUM(tokens_input), 9.0e18) AS BIGINT) AS TokensInput, CAST(LEAST(SUM(tokens_output), 9.0e18) AS BIGINT) AS TokensOutput,
               CAST(LEAST(SUM(CAST(cost_usd AS NUMERIC)), 1.0e308) AS DOUBLE PRECISION) AS CostUsd, SUM(estimated_runs) > 0 AS AnyEstimated
        FROM run_daily WHERE day >= @SinceDay
        GROUP BY tenant_id, model_name
        HAVING SUM(usage_runs) > 0
        ORDER BY CostUsd DESC, tenant_id, model_name
        """;

    /// Recomputes what the triggers of Migrations/Postgres/0001 keep (counters, hourly and daily rollups; each run in its
    /// shard: `runs.shard` since 0012, `pk % 8` for the runs from before, 0010) from the runs: after a bulk copy that loaded runs with the triggers disabled. The same numbers as
    /// SQLite's backfills in migrations 0005 and 0006; value sums saturate at the largest BIGINT (cost: the largest finite double),
    /// as the triggers' sums do, summed as NUMERIC so they never overflow on the way (a SUM of DOUBLE
    /// PRECISION raises "value out of range: overflow"). The trigram index
    /// on names needs no rebuild: PostgreSQL maintains it.
    public const string RebuildDerivedSql = """
        DELETE FROM run_counts;
        INSERT INTO run_counts (tenant_id, workflow_name, status, shard, n)
        SELECT tenant_id, workflow_name, status, COALESCE(shard, pk % 8), COUNT(*) FROM runs GROUP BY tenant_id, workflow_name, status, COALESCE(shard, pk % 8);
        DELETE FROM run_rollups;
        INSERT INTO run_rollups (tenant_id, hour, status, dry, shard, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
        SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, COALESCE(shard, pk % 8), COUNT(*),
               LEAST(COALESCE(SUM(insights_created), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
               LEAST(COALESCE(SUM(tokens_input), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(tokens_output), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(duration_ms), 0), 9223372036854775807)::bigint,
               COUNT(duration_ms)
        FROM runs GROUP BY tenant_id, substr(created_at, 1, 13), status, dry_run, COALESCE(shard, pk % 8);
        DELETE FROM run_daily;
        INSERT INTO run_daily (tenant_id, day, workflow_name, model_name, status, shard, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
        SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COALESCE(shard, pk % 8), COUNT(*),
               COUNT(*) FILTER (WHERE tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL),
               SUM(cost_estimated)::bigint,
               LEAST(COALESCE(SUM(cost_usd::numeric), 0), 1.7976931348623157e308)::float8,
               LEAST(COALESCE(SUM(tokens_input), 0), 9223372036854775807)::bigint,
               LEAST(COALESCE(SUM(tokens_output), 0), 9223372036854775807)::bigint
        FROM runs GROUP BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COALESCE(shard, pk % 8);
        """;

    public string? RebuildDerived => RebuildDerivedSql;

    // pg_trgm's index takes each row in its own insert.
    public bool IndexesNamesOnWrite => true;

    public IArtifactBytes ArtifactBytes(Database database) => new PostgresArtifactBytes(database);

    public IWritePath WritePath(Database database) => new RetriedWrites(database);

    public string LikeInsensitive => "ILIKE";

    private const string InsertLogs = """
        INSERT INTO run_logs (run_pk, seq, ts, level, step_id, message, fields, cut)
        SELECT @RunPk, * FROM unnest(@Seqs, @Ts, @Levels, @StepIds, @Messages, @Fields, @Cuts)
        """;

    // The request's lines as arrays: one statement and one round trip, not one a line.
    public Task InsertLogsAsync(IDbConnection connection, IDbTransaction tx, IReadOnlyList<LogRow> rows) =>
        connection.ExecuteAsync(InsertLogs, new
        {
            rows[0].RunPk,
            Seqs = rows.Select(r => r.Seq).ToArray(),
            Ts = rows.Select(r => r.Ts).ToArray(),
            Levels = rows.Select(r => r.Level).ToArray(),
            StepIds = rows.Select(r => r.StepId).ToArray(),
            Messages = rows.Select(r => r.Message).ToArray(),
            Fields = rows.Select(r => r.Fields).ToArray(),
            Cuts = rows.Select(r => r.Cut).ToArray(),
        }, tx);

    // Any fixed number: it names RunMonitor's migration lock among the database's advisory locks.
    private const long MigrationLock = 0x52756e4d6f6e;

    /// An advisory lock held by this session until the migrations end: a second instance waits, then finds nothing to do.
    public async Task<IAsyncDisposable> BeginMigrationsAsync(Database database, CancellationToken ct)
    {
        var holder = await database.OpenAsync(ct);
        try
        {
            await holder.ExecuteAsync("SELECT pg_advisory_lock(@Key)", new { Key = MigrationLock });
        }
        catch
        {
            await holder.DisposeAsync();
            throw;
        }
        return new MigrationLockHeld(holder);
    }

    private sealed class MigrationLockHeld(System.Data.Common.DbConnection holder) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try { await holder.ExecuteAsync("SELECT pg_advisory_unlock(@Key)", new { Key = MigrationLock }); }
            finally { await holder.DisposeAsync(); }
        }
    }
}
