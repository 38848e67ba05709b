using System.Data;
using Dapper;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Data;

/// SQLite's spelling: one writer (no row locks), Dapper's own IN lists, FTS5 trigrams fed by `NameIndexer`, files for artifact bytes.
public sealed class SqliteDialect : ISqlDialect
{
    public static readonly SqliteDialect Instance = new();

    public string Lists(string sql) => sql;

    public string ForUpdate => "";

    public string SkipLocked => "";

    // No statement writes several tables: one each, compiled once on the writer's connection and run in its group commit.
    public string? CreateRun => null;

    // The one writer's group commit takes concurrent creates into one transaction already.
    public string? CreateRuns(GroupParts parts) => null;

    public string? LockKey => null;

    // DESC puts NULLs last by itself; ASC reads the (duration_ms IS NULL, duration_ms, pk) expression index.
    public string DurationOrder(bool descending) => descending ? "duration_ms DESC, pk DESC" : "duration_ms IS NULL, duration_ms, pk";

    private const string SearchMatches = "SELECT rowid FROM runs_name_fts WHERE runs_name_fts MATCH @QPhrase LIMIT @Cap";

    /// Through the trigram index as a quoted phrase (so % and _ are literal): few matches drive the query, a common
    /// name becomes a LIKE filter on runs read newest-first.
    public async Task<NameClause> NameClauseAsync(IDbConnection connection, string q, string escaped, DynamicParameters p, int driveLimit)
    {
        var phrase = "\"" + q.Replace("\"", "\"\"") + "\"";
        // The index folds every letter's case; LIKE, for the runs it does not hold, ASCII's only (`NameFolding`).
        var byName = "name LIKE @QLike ESCAPE '\\'";
        if (NameFolding.Needed(q))
        {
            byName = "name GLOB @QPattern";
            p.Add("QPattern", NameFolding.Glob(q));
        }
        else
        {
            p.Add("QLike", "%" + escaped + "%");
        }
        // The index is read once: its matches travel to the page and the count as a JSON array, instead of each
        // of them matching the phrase again (slow for a long one).
        // The mark is read before the matches: a run the indexer takes in between is then in both (IN keeps it once);
        // read after, it would be in neither.
        var mark = await connection.ExecuteScalarAsync<long>(NameIndexer.SelectMark);
        var matches = (await connection.QueryAsync<long>(SearchMatches, new { QPhrase = phrase, Cap = driveLimit + 1 })).AsList();
        if (matches.Count <= driveLimit)
        {
            p.Add("QMatches", "[" + string.Join(',', matches) + "]");
            p.Add("QMark", mark);
            // The index holds the runs up to the mark; the few written since are matched by their names.
            return new NameClause("pk IN (SELECT value FROM json_each(@QMatches) " +
                $"UNION ALL SELECT pk FROM runs WHERE pk > @QMark AND {byName})", NameMatch.Index);
        }
        return new NameClause(byName, NameMatch.Common);
    }

    // The period's hours from the rollups (a period is whole hours or days: StatsPeriod), the queue from the counters.
    // Ingest accepts any 64-bit count, so value sums saturate: TOTAL never overflows where SUM throws.
    private const string StatsSql = """
        SELECT COALESCE(SUM(runs), 0) AS Total,
               COALESCE(SUM(CASE WHEN status = 'completed' THEN runs END), 0) AS Completed,
               COALESCE(SUM(CASE WHEN status = 'partial' THEN runs END), 0) AS Partial,
               COALESCE(SUM(CASE WHEN status = 'failed' THEN runs END), 0) AS Failed,
               COALESCE(SUM(CASE WHEN status = 'cancelled' THEN runs END), 0) AS Cancelled,
               COALESCE(SUM(CASE WHEN dry = 1 OR status = 'dry' THEN runs END), 0) AS Dry,
               CAST(MIN(TOTAL(insights), 9.0e18) AS INTEGER) AS Insights,
               COALESCE(SUM(cost_usd), 0.0) AS CostUsd,
               CAST(MIN(TOTAL(tokens_input), 9.0e18) AS INTEGER) AS TokensInput,
               CAST(MIN(TOTAL(tokens_output), 9.0e18) AS INTEGER) AS TokensOutput,
               CASE WHEN TOTAL(duration_count) > 0 THEN TOTAL(duration_sum) / TOTAL(duration_count) END AS AvgDurationMs
        FROM run_rollups WHERE {0} hour >= @SinceHour;
        SELECT COALESCE(SUM(CASE WHEN status = 'queued' THEN n END), 0) AS QueuedNow,
               COALESCE(SUM(CASE WHEN status = 'running' THEN n END), 0) AS RunningNow
        FROM run_counts WHERE {0} status IN ('queued', 'running');
        SELECT MIN(created_at) FROM runs WHERE {0} status = 'queued';
        """;

    private static readonly string StatsTenant = string.Format(StatsSql, "tenant_id = @Tenant AND");
    private static readonly string StatsAll = string.Format(StatsSql, "");

    public string Stats(bool allTenants) => allTenants ? StatsAll : StatsTenant;

    // A CROSS JOIN is joined in the order written.
    public string SlowestSkills { get; } = Runs.AdminStore.SlowestSkillsFor(
        "steps s WHERE s.tenant_id = r.tenant_id AND s.run_id = r.id AND s.duration_ms IS NOT NULL AND s.skill_id IS NOT NULL");

    // Token sums saturate as the stats' do.
    public string UsageByTenantModel => """
        SELECT tenant_id AS TenantId, NULLIF(model_name, '') AS ModelName, SUM(usage_runs) AS Runs,
               CAST(MIN(TOTAL(tokens_input), 9.0e18) AS INTEGER) AS TokensInput, CAST(MIN(TOTAL(tokens_output), 9.0e18) AS INTEGER) AS TokensOutput,
               TOTAL(cost_usd) AS CostUsd, SUM(estimated_runs) > 0 AS AnyEstimated
        FROM run_daily WHERE day >= @SinceDay
        GROUP BY tenant_id, model_name
        HAVING SUM(usage_runs) > 0
        ORDER BY CostUsd DESC, tenant_id, model_name
        """;

    public string? RebuildDerived => null;

    public bool IndexesNamesOnWrite => false;

    public IArtifactBytes ArtifactBytes(Database database) => new FileArtifactBytes(database);

    public IWritePath WritePath(Database database) => new GroupCommitWrites(database);

    public string LikeInsensitive => "LIKE";

    private const string InsertLog = """
        INSERT INTO run_logs (run_pk, seq, ts, level, step_id, message, fields, cut)
        VALUES (@RunPk, @Seq, @Ts, @Level, @StepId, @Message, @Fields, @Cut)
        """;

    // On the writer's connection the statement stays compiled and runs once a row, bound by position.
    public Task InsertLogsAsync(IDbConnection connection, IDbTransaction tx, IReadOnlyList<LogRow> rows) =>
        connection.ExecutePreparedAsync(InsertLog, rows, tx);

    public async Task<IAsyncDisposable> BeginMigrationsAsync(Database database, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        // WAL lets readers run while the one writer commits; it persists in the file.
        await connection.ExecuteAsync("PRAGMA journal_mode=WAL");
        return NothingHeld.Instance;
    }

    private sealed class NothingHeld : IAsyncDisposable
    {
        public static readonly NothingHeld Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
