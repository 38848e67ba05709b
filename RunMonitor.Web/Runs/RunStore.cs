using System.Data;
using System.Text;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// A page of runs. `Total` is exact from the counters, or for free-text and date filters counted up to
/// `RunStore.CountCap` with `TotalCapped` set beyond it (shown as `10,000+`). `SearchedNewest` is set when a name
/// too common to search every run for was looked for among that many newest runs of the other filters only.
/// `SharedIds`: for a super admin's view, the ids of the page also held by a run of another tenant (their links name the tenant).
public sealed record RunPage(IReadOnlyList<RunRow> Items, long Total, RunFilter Filter, bool TotalCapped = false, int? SearchedNewest = null)
{
    public IReadOnlySet<string> SharedIds { get; init; } = new HashSet<string>();
}

public sealed record RunStats
{
    public long Total { get; init; }
    public long Completed { get; init; }
    public long Partial { get; init; }
    public long Failed { get; init; }
    public long Cancelled { get; init; }
    public long Dry { get; init; }
    public long Insights { get; init; }
    public double CostUsd { get; init; }
    public long TokensInput { get; init; }
    public long TokensOutput { get; init; }
    public double? AvgDurationMs { get; init; }
    public long QueuedNow { get; init; }
    public long RunningNow { get; init; }
    public string? OldestQueuedAt { get; init; }
}

/// Every SQL statement about runs, their steps and errors. Each query is scoped by tenant
/// (a null tenant is the super admin's all-tenant view); sort columns come from a whitelist.
public sealed partial class RunStore(Database database)
{
    private const string RunColumns = """
        id AS Id, tenant_id AS TenantId, workflow_name AS WorkflowName, name AS Name, status AS Status,
        dry_run AS DryRun, trigger_payload AS TriggerPayload, context AS Context,
        error_message AS ErrorMessage, error_type AS ErrorType, error_stack AS ErrorStack,
        created_at AS CreatedAt, started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs,
        targets_matched AS TargetsMatched, targets_processed AS TargetsProcessed, targets_skipped AS TargetsSkipped,
        insights_created AS InsightsCreated, model_profile AS ModelProfile, model_provider AS ModelProvider,
        model_name AS ModelName, tokens_input AS TokensInput, tokens_output AS TokensOutput, cost_usd AS CostUsd,
        cost_estimated AS CostEstimated, layer_hash AS LayerHash, retry_of AS RetryOf,
        cancel_requested AS CancelRequested, lease_owner AS LeaseOwner, lease_expires_at AS LeaseExpiresAt,
        lease_seconds AS LeaseSeconds, steps_total AS StepsTotal, steps_completed AS StepsCompleted, updated_at AS UpdatedAt,
        workflow_version AS WorkflowVersion, trigger_type AS TriggerType, base_run_id AS BaseRunId, error_code AS ErrorCode,
        error_failed_step_id AS ErrorFailedStepId, error_timestamp AS ErrorTimestamp
        """;

    // The list never needs the large JSON and stack columns.
    private const string ListColumns = """
        id AS Id, tenant_id AS TenantId, workflow_name AS WorkflowName, name AS Name, status AS Status,
        dry_run AS DryRun, error_message AS ErrorMessage, error_type AS ErrorType,
        created_at AS CreatedAt, started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs,
        targets_matched AS TargetsMatched, targets_processed AS TargetsProcessed, targets_skipped AS TargetsSkipped,
        insights_created AS InsightsCreated, model_name AS ModelName, tokens_input AS TokensInput,
        tokens_output AS TokensOutput, cost_usd AS CostUsd, cost_estimated AS CostEstimated, retry_of AS RetryOf,
        cancel_requested AS CancelRequested, steps_total AS StepsTotal, steps_completed AS StepsCompleted,
        updated_at AS UpdatedAt
        """;

    // The exports hold what the list shows and the engines' version, trigger and error code; the list, which shows
    // none of them, does not read them for every row (docs/PERFORMANCE.md, issue 13).
    private const string ExportColumns = $"""
        {ListColumns}, workflow_version AS WorkflowVersion, trigger_type AS TriggerType, base_run_id AS BaseRunId, error_code AS ErrorCode
        """;

    private const string StepColumns = """
        tenant_id AS TenantId, run_id AS RunId, step_id AS StepId, seq AS Seq, skill_id AS SkillId, status AS Status,
        started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs, cache_hit AS CacheHit,
        attempt AS Attempt, input AS Input, output AS Output, error_message AS ErrorMessage,
        error_stack AS ErrorStack, updated_at AS UpdatedAt, input_hash AS InputHash, output_artifact_ids AS OutputArtifactIds,
        error_code AS ErrorCode, error_attempt AS ErrorAttempt, error_timestamp AS ErrorTimestamp, error_details AS ErrorDetails
        """;

    private static readonly IReadOnlyDictionary<RunSort, string> SortColumns = new Dictionary<RunSort, string>
    {
        [RunSort.Created] = "created_at",
        [RunSort.Status] = "status",
        [RunSort.Duration] = "duration_ms",
    };

    // A run is its tenant and its id: the same id may name a run in each of two tenants.
    internal const string SelectRun = $"SELECT {RunColumns} FROM runs WHERE tenant_id = @Tenant AND id = @Id";
    private const string SelectRunForUpdate = SelectRun + " FOR UPDATE";
    internal const string SelectTenantsOfId = "SELECT tenant_id FROM runs WHERE id = @Id ORDER BY tenant_id LIMIT 10";

    public async Task<RunRow?> GetAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await GetAsync(connection, null, tenant, id);
    }

    /// `tenant` is the caller's tenant, or null for a super admin who named none: the id is then looked for in every
    /// tenant, and one held by several throws AmbiguousRunIdException (answered 409 naming them). Inside a write (`tx`
    /// given) on PostgreSQL the row stays locked to the end of the transaction: writes to one run take turns
    /// whichever instance they come through, as SQLite's one writer makes them.
    public static async Task<RunRow?> GetAsync(IDbConnection connection, IDbTransaction? tx, string? tenant, string id)
    {
        if ((tenant ?? await TenantOfAsync(connection, tx, id)) is not { } owner) return null;
        var sql = tx is not null && connection.IsPostgres() ? SelectRunForUpdate : SelectRun;
        return await connection.QuerySingleOrDefaultPreparedAsync<RunRow>(sql, new { Tenant = owner, Id = id }, tx);
    }

    /// The one tenant holding a run with this id; null when none does.
    private static async Task<string?> TenantOfAsync(IDbConnection connection, IDbTransaction? tx, string id)
    {
        var tenants = (await connection.QueryAsync<string>(SelectTenantsOfId, new { Id = id }, tx)).AsList();
        return tenants.Count switch
        {
            0 => null,
            1 => tenants[0],
            _ => throw new AmbiguousRunIdException(id, tenants),
        };
    }

    private const string SelectErrors = """
        SELECT tenant_id AS TenantId, run_id AS RunId, seq AS Seq, topic AS Topic, error AS Error, node AS Node
        FROM run_errors WHERE tenant_id = @Tenant AND run_id = @RunId ORDER BY seq
        """;

    public async Task<RunDetail?> GetDetailAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var run = await GetAsync(connection, null, tenant, id);
        if (run is null) return null;
        return new RunDetail(run, await GetErrorsAsync(connection, null, run));
    }

    public static async Task<IReadOnlyList<RunErrorRow>> GetErrorsAsync(IDbConnection connection, IDbTransaction? tx, RunRow run) =>
        (await connection.QueryAsync<RunErrorRow>(SelectErrors, new { Tenant = run.TenantId, RunId = run.Id }, tx)).ToList();

    internal const string SelectSteps = $"SELECT {StepColumns} FROM steps WHERE tenant_id = @Tenant AND run_id = @RunId ORDER BY seq, step_id";

    public async Task<IReadOnlyList<StepRow>> GetStepsAsync(RunRow run, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await GetStepsAsync(connection, null, run);
    }

    public static async Task<IReadOnlyList<StepRow>> GetStepsAsync(IDbConnection connection, IDbTransaction? tx, RunRow run) =>
        (await connection.QueryAsync<StepRow>(SelectSteps, new { Tenant = run.TenantId, RunId = run.Id }, tx)).ToList();

    /// How far a free-text or date-filtered list is counted before it says "10,000+".
    public const int CountCap = 10_000;

    // Up to this many trigram matches the matches drive the query, each looked up by its key (cheap; see PERFORMANCE.md).
    private const int SearchDriveLimit = 10_000;

    /// A name in more than SearchDriveLimit names is looked for among this many newest runs of the other filters,
    /// not all of them. Neither way round is bounded otherwise: newest-first, a name common in the store but rare
    /// in one workflow read that workflow's every run; through the index, every one of its matches (figures in
    /// PERFORMANCE.md). A date range (`to`) moves the window back.
    public const int SearchWindow = 10_000;

    private const string SearchMatches = "SELECT rowid FROM runs_name_fts WHERE runs_name_fts MATCH @QPhrase LIMIT @Cap";

    /// WHERE clause from fixed fragments only; every value travels as a parameter. `windowed`: a common name is
    /// looked for among the newest SearchWindow runs only (the list); without it, among all (the export). `Search`
    /// says how `q` was read, CommonWindowed when the window left older runs unsearched.
    private static async Task<(string Where, DynamicParameters Parameters, NameSearch Search)> BuildWhereAsync(IDbConnection connection, RunFilter filter, bool windowed = false)
    {
        var clauses = new List<string>();
        var p = new DynamicParameters();
        if (filter.Tenant is not null) { clauses.Add("tenant_id = @Tenant"); p.Add("Tenant", filter.Tenant); }
        if (filter.Workflow is not null) { clauses.Add("workflow_name = @Workflow"); p.Add("Workflow", filter.Workflow); }
        if (filter.Statuses.Count == 1) { clauses.Add("status = @Status"); p.Add("Status", filter.Statuses[0]); }
        else if (filter.Statuses.Count > 1) { clauses.Add(connection.Lists("status IN @Statuses")); p.Add("Statuses", filter.Statuses.ToArray()); }
        if (filter.From is { } from) { clauses.Add("created_at >= @From"); p.Add("From", DbTime.ToDb(from)); }
        if (filter.To is { } to) { clauses.Add("created_at < @To"); p.Add("To", DbTime.ToDb(to)); }
        var search = NameSearch.None;
        if (filter.Q is { } q)
        {
            (var clause, search) = await SearchClauseAsync(connection, q, p);
            if (search == NameSearch.Common && windowed && await AddSearchWindowAsync(connection, clauses, p)) search = NameSearch.CommonWindowed;
            clauses.Add(clause);
        }
        return (Where(clauses), p, search);
    }

    /// How `q` reads names. Index: the trigram matches (at most SearchDriveLimit) drive the query. Common: the name
    /// is a filter on runs read newest-first; Windowed: only the newest SearchWindow of them, and older ones exist.
    private enum NameSearch { None, Index, Common, CommonWindowed }

    private static string Where(List<string> clauses) => clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);

    private sealed class WindowEdge
    {
        public string CreatedAt { get; init; } = "";
        public long Pk { get; init; }
    }

    // The SearchWindow-th newest run the other clauses select (an index range read in order, ids only); the window
    // is it and every run newer. False when there are fewer: then every run is searched.
    private static async Task<bool> AddSearchWindowAsync(IDbConnection connection, List<string> clauses, DynamicParameters p)
    {
        p.Add("WindowEdgeOffset", SearchWindow - 1);
        var edge = await connection.QueryFirstOrDefaultAsync<WindowEdge>(
            $"SELECT created_at AS CreatedAt, pk AS Pk FROM runs {Where(clauses)} ORDER BY created_at DESC, pk DESC LIMIT 1 OFFSET @WindowEdgeOffset", p);
        if (edge is null) return false;
        p.Add("EdgeCreated", edge.CreatedAt);
        p.Add("EdgePk", edge.Pk);
        clauses.Add("created_at >= @EdgeCreated AND (created_at, pk) >= (@EdgeCreated, @EdgePk)");
        return true;
    }

    /// `q`: a run id prefix (an index range), or a name: a substring through the trigram index from three
    /// characters on (as a quoted phrase, so % and _ are literal). A shorter `q` matches run ids only (a name
    /// index for it cost every insert more than it was worth: migration 0007).
    private static async Task<(string Clause, NameSearch Search)> SearchClauseAsync(IDbConnection connection, string q, DynamicParameters p)
    {
        p.Add("QLow", q);
        p.Add("QHigh", q + '\uffff');
        var lower = q.ToLowerInvariant();
        p.Add("QLowLower", lower);
        p.Add("QHighLower", lower + '\uffff');
        const string idPrefix = "(id >= @QLow AND id < @QHigh) OR (id >= @QLowLower AND id < @QHighLower)";
        if (q.Length < NameSearchMinimum) return ($"({idPrefix})", NameSearch.None);
        var escaped = q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
        if (connection.IsPostgres()) return (SearchClausePostgres(escaped, idPrefix, p), NameSearch.None);
        var phrase = "\"" + q.Replace("\"", "\"\"") + "\"";
        p.Add("QLike", "%" + escaped + "%");
        // The trigram index is read once: its matches (when few enough to drive the query) travel to the page and
        // the count as a JSON array, instead of each of them matching the phrase again (slow for a long one).
        var matches = (await connection.QueryAsync<long>(SearchMatches, new { QPhrase = phrase, Cap = SearchDriveLimit + 1 })).AsList();
        if (matches.Count <= SearchDriveLimit)
        {
            p.Add("QMatches", "[" + string.Join(',', matches) + "]");
            // The index holds the runs up to NameIndexer's mark; the few written since are matched by their names.
            return ($"({idPrefix} OR pk IN (SELECT value FROM json_each(@QMatches) " +
                    $"UNION ALL SELECT pk FROM runs WHERE {NameIndexer.Unindexed} AND name LIKE @QLike ESCAPE '\\'))", NameSearch.Index);
        }
        // A common name: newest-first with the name as a filter (a page of a dense one fills at once), within the
        // search window when the caller bounds it.
        return ($"({idPrefix} OR name LIKE @QLike ESCAPE '\\')", NameSearch.Common);
    }

    /// Names are searched from this many characters on: the trigram indexes need three.
    public const int NameSearchMinimum = 3;

    /// PostgreSQL: the pg_trgm GIN index serves `name ILIKE '%q%'` (from three characters on, as SQLite's trigrams).
    private static string SearchClausePostgres(string escaped, string idPrefix, DynamicParameters p)
    {
        p.Add("QLike", "%" + escaped + "%");
        // The planner picks the trigram index or a newest-first scan from its own estimates; the count stays capped.
        return $"({idPrefix} OR name ILIKE @QLike)";
    }

    /// The ORDER BY for the filter's sort, from the whitelist only; every column then `pk`, in one
    /// direction, so an index serves the order and pages never overlap.
    private static string OrderBy(RunFilter filter, bool postgres)
    {
        var direction = filter.Descending ? "DESC" : "ASC";
        return filter.Sort switch
        {
            // PostgreSQL sorts NULL above every value; NULLS LAST keeps runs without a duration last both ways,
            // read from the (duration_ms, pk) index one way and the (duration_ms DESC NULLS LAST, pk DESC) one the other.
            RunSort.Duration when postgres => $"duration_ms {direction} NULLS LAST, pk {direction}",
            RunSort.Status => $"status {direction}, created_at {direction}, pk {direction}",
            // Runs without a duration last both ways: DESC puts NULLs last by itself; ASC reads the expression index.
            RunSort.Duration when !filter.Descending => "duration_ms IS NULL, duration_ms, pk",
            _ => $"{SortColumns[filter.Sort]} {direction}, pk {direction}",
        };
    }

    private static bool CountableFromCounters(RunFilter filter) => filter.Q is null && filter.From is null && filter.To is null;

    /// The page's SQL and its total's SQL for a filter: the total exact from `run_counts` when the filter is
    /// tenant/workflow/status only, otherwise counted up to the cap. Public so a test can read their plans.
    /// `SearchedNewest`: the search window, when it left older runs unsearched.
    public sealed record ListQuery(string ItemsSql, string CountSql, bool CountIsCapped, DynamicParameters Parameters, int? SearchedNewest = null);

    public static async Task<ListQuery> BuildListQueryAsync(IDbConnection connection, RunFilter filter)
    {
        var (where, p, search) = await BuildWhereAsync(connection, filter, windowed: true);
        p.Add("Limit", filter.Limit);
        p.Add("Offset", filter.Offset);
        p.Add("CountCap", CountCap + 1);
        var order = OrderBy(filter, connection.IsPostgres());
        // A searched page in another order than newest-first: the matches (bounded: trigram matches or the window)
        // are collected first and sorted, rather than the sort's index walked with each run's name looked up.
        var items = search != NameSearch.None && filter.Sort != RunSort.Created
            ? $"WITH hits (hit) AS MATERIALIZED (SELECT pk FROM runs {where}) SELECT {ListColumns} FROM hits CROSS JOIN runs ON runs.pk = hits.hit ORDER BY {order} LIMIT @Limit OFFSET @Offset"
            : $"SELECT {ListColumns} FROM runs {where} ORDER BY {order} LIMIT @Limit OFFSET @Offset";
        // The same clauses name columns run_counts has: tenant_id, workflow_name, status.
        return CountableFromCounters(filter)
            ? new ListQuery(items, $"SELECT COALESCE(SUM(n), 0) FROM run_counts {where}", false, p)
            : new ListQuery(items, $"SELECT COUNT(*) FROM (SELECT 1 FROM runs {where} LIMIT @CountCap) AS capped", true, p,
                search == NameSearch.CommonWindowed ? SearchWindow : null);
    }

    // Every open dashboard polls the same page of the same list: an answer is reused for a second at most,
    // and only while nothing has been written since it was read (through this instance, or another one
    // sharing the store). Bounded: a flood of distinct filters empties it rather than growing it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (RunPage Page, long Commits, long At)> _listCache = new();
    private const int ListCacheEntries = 512;

    public async Task<RunPage> ListAsync(RunFilter filter, CancellationToken ct = default)
    {
        var key = (filter.Tenant ?? "*") + "|" + filter.ToQueryString();
        var commits = database.Commits;
        var now = Environment.TickCount64;
        if (_listCache.TryGetValue(key, out var cached) && cached.Commits == commits && now - cached.At < 1000)
            return cached.Page with { Filter = filter };
        var page = await ReadListAsync(filter, ct);
        if (_listCache.Count >= ListCacheEntries) _listCache.Clear();
        _listCache[key] = (page, commits, now);
        return page;
    }

    private async Task<RunPage> ReadListAsync(RunFilter filter, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var query = await BuildListQueryAsync(connection, filter);
        var items = (await connection.QueryAsync<RunRow>(query.ItemsSql, query.Parameters)).ToList();
        var counted = await connection.ExecuteScalarAsync<long>(query.CountSql, query.Parameters);
        var capped = query.CountIsCapped && counted > CountCap;
        // A tenant's caller never sees another tenant's runs; a super admin's links must say which run an id means.
        var superAdminView = filter.Tenant is null || filter.TenantChosen;
        return new RunPage(items, capped ? CountCap : counted, filter, capped, query.SearchedNewest)
        {
            SharedIds = superAdminView ? await SharedIdsAsync(connection, items) : new HashSet<string>(),
        };
    }

    private const string SelectSharedIds = "SELECT id FROM runs WHERE id IN @Ids GROUP BY id HAVING COUNT(*) > 1";

    /// Which of these runs' ids a run of another tenant holds too.
    public async Task<IReadOnlySet<string>> SharedIdsAsync(IReadOnlyList<RunRow> runs, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await SharedIdsAsync(connection, runs);
    }

    private static async Task<IReadOnlySet<string>> SharedIdsAsync(IDbConnection connection, IReadOnlyList<RunRow> runs) =>
        runs.Count == 0 ? new HashSet<string>()
            : (await connection.QueryAsync<string>(connection.Lists(SelectSharedIds), new { Ids = runs.Select(r => r.Id).Distinct().ToArray() })).ToHashSet(StringComparer.Ordinal);

    public const string SelectRecent = $"SELECT {ListColumns} FROM runs WHERE tenant_id = @Tenant ORDER BY created_at DESC, pk DESC LIMIT @Limit";
    public const string SelectRecentAll = $"SELECT {ListColumns} FROM runs ORDER BY created_at DESC, pk DESC LIMIT @Limit";

    public async Task<IReadOnlyList<RunRow>> RecentAsync(string? tenant, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<RunRow>(tenant is null ? SelectRecentAll : SelectRecent, new { Tenant = tenant, Limit = limit })).ToList();
    }

    private const string SelectWorkflows = "SELECT DISTINCT workflow_name FROM workflows WHERE tenant_id = @Tenant ORDER BY workflow_name";
    private const string SelectWorkflowsAll = "SELECT DISTINCT workflow_name FROM workflows ORDER BY workflow_name";

    public async Task<IReadOnlyList<string>> WorkflowsAsync(string? tenant, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<string>(tenant is null ? SelectWorkflowsAll : SelectWorkflows, new { Tenant = tenant })).ToList();
    }

    private const string SelectTenants = "SELECT DISTINCT tenant_id FROM workflows ORDER BY tenant_id";

    public async Task<IReadOnlyList<string>> TenantsAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<string>(SelectTenants)).ToList();
    }

    private const string SelectWorkflowsAndTenants = $"{SelectWorkflows};\n{SelectTenants}";
    private const string SelectWorkflowsAllAndTenants = $"{SelectWorkflowsAll};\n{SelectTenants}";

    /// The filter form's choices on one connection: the tenant's workflows (all for null) and, for a super admin, the tenants.
    public async Task<(IReadOnlyList<string> Workflows, IReadOnlyList<string> Tenants)> FilterChoicesAsync(string? tenant, bool withTenants, CancellationToken ct = default)
    {
        if (!withTenants) return (await WorkflowsAsync(tenant, ct), []);
        await using var connection = await database.OpenAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            tenant is null ? SelectWorkflowsAllAndTenants : SelectWorkflowsAndTenants, new { Tenant = tenant }, cancellationToken: ct));
        return ((await results.ReadAsync<string>()).AsList(), (await results.ReadAsync<string>()).AsList());
    }

    // One round trip, no scan of the period: whole hours from the rollups, the period's first partial
    // hour from the runs themselves (an index range), and the queue from the counters. Ingest accepts any
    // 64-bit count, so value sums saturate: TOTAL never overflows (SUM of integers throws "integer overflow").
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
        FROM (
            SELECT status, dry, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count
            FROM run_rollups WHERE {0} hour >= @FirstHour
            UNION ALL
            SELECT status, dry_run, 1, COALESCE(insights_created, 0), COALESCE(cost_usd, 0.0), COALESCE(tokens_input, 0),
                   COALESCE(tokens_output, 0), COALESCE(duration_ms, 0), duration_ms IS NOT NULL
            FROM runs WHERE {0} created_at >= @Since AND created_at < @FirstHourStart
        );
        SELECT COALESCE(SUM(CASE WHEN status = 'queued' THEN n END), 0) AS QueuedNow,
               COALESCE(SUM(CASE WHEN status = 'running' THEN n END), 0) AS RunningNow
        FROM run_counts WHERE {0} status IN ('queued', 'running');
        SELECT MIN(created_at) FROM runs WHERE {0} status = 'queued';
        """;

    // The same on PostgreSQL: SUM of bigint is numeric there (it cannot overflow), so it saturates with LEAST;
    // costs are summed as numeric too, as a sum of doubles past 1.8e308 is an error there, not infinity.
    private const string StatsSqlPostgres = """
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
        FROM (
            SELECT status, dry, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count
            FROM run_rollups WHERE {0} hour >= @FirstHour
            UNION ALL
            SELECT status, dry_run, 1, COALESCE(insights_created, 0), COALESCE(cost_usd, 0.0), COALESCE(tokens_input, 0),
                   COALESCE(tokens_output, 0), COALESCE(duration_ms, 0), CASE WHEN duration_ms IS NOT NULL THEN 1 ELSE 0 END
            FROM runs WHERE {0} created_at >= @Since AND created_at < @FirstHourStart
        ) AS period;
        SELECT CAST(COALESCE(SUM(CASE WHEN status = 'queued' THEN n END), 0) AS BIGINT) AS QueuedNow,
               CAST(COALESCE(SUM(CASE WHEN status = 'running' THEN n END), 0) AS BIGINT) AS RunningNow
        FROM run_counts WHERE {0} status IN ('queued', 'running');
        SELECT MIN(created_at) FROM runs WHERE {0} status = 'queued';
        """;

    public static readonly string StatsTenant = string.Format(StatsSql, "tenant_id = @Tenant AND");
    public static readonly string StatsAll = string.Format(StatsSql, "");
    public static readonly string StatsTenantPostgres = string.Format(StatsSqlPostgres, "tenant_id = @Tenant AND");
    public static readonly string StatsAllPostgres = string.Format(StatsSqlPostgres, "");

    // Dashboards poll the cards every few seconds: an answer is reused for a second at most, and only
    // while nothing has been written since it was read.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, long), (RunStats Stats, long Commits, DateTimeOffset At)> _statsCache = new();

    public async Task<RunStats> StatsAsync(string? tenant, DateTimeOffset since, TimeProvider time, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var key = (tenant ?? "", (long)Math.Round((now - since).TotalSeconds));
        var commits = database.Commits;
        if (_statsCache.TryGetValue(key, out var cached) && cached.Commits == commits && now - cached.At < TimeSpan.FromSeconds(1) && now >= cached.At)
            return cached.Stats;
        var stats = await StatsAsync(tenant, since, ct);
        _statsCache[key] = (stats, commits, now);
        return stats;
    }

    public async Task<RunStats> StatsAsync(string? tenant, DateTimeOffset since, CancellationToken ct = default)
    {
        var firstHour = new DateTimeOffset(since.UtcDateTime.Date.AddHours(since.UtcDateTime.Hour), TimeSpan.Zero);
        if (firstHour < since) firstHour = firstHour.AddHours(1);
        await using var connection = await database.OpenAsync(ct);
        var sql = (tenant is null, connection.IsPostgres()) switch
        {
            (true, false) => StatsAll,
            (false, false) => StatsTenant,
            (true, true) => StatsAllPostgres,
            (false, true) => StatsTenantPostgres,
        };
        using var grid = await connection.QueryMultipleAsync(sql, new
        {
            Tenant = tenant, Since = DbTime.ToDb(since), FirstHourStart = DbTime.ToDb(firstHour), FirstHour = DbTime.ToDb(firstHour)[..13],
        });
        var totals = await grid.ReadSingleAsync<RunStats>();
        var queue = await grid.ReadSingleAsync<RunStats>();
        var oldest = await grid.ReadSingleOrDefaultAsync<string?>();
        return totals with { QueuedNow = queue.QueuedNow, RunningNow = queue.RunningNow, OldestQueuedAt = oldest };
    }
}
