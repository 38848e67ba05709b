using System.Data;
using System.Text;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

public sealed record RunPage(IReadOnlyList<RunRow> Items, long Total, RunFilter Filter);

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
    public Database Database => database;

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
        steps_total AS StepsTotal, steps_completed AS StepsCompleted, updated_at AS UpdatedAt
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

    private const string StepColumns = """
        run_id AS RunId, step_id AS StepId, seq AS Seq, skill_id AS SkillId, status AS Status,
        started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs, cache_hit AS CacheHit,
        attempt AS Attempt, input AS Input, output AS Output, error_message AS ErrorMessage,
        error_stack AS ErrorStack, updated_at AS UpdatedAt
        """;

    private static readonly IReadOnlyDictionary<RunSort, string> SortColumns = new Dictionary<RunSort, string>
    {
        [RunSort.Created] = "created_at",
        [RunSort.Status] = "status",
        [RunSort.Duration] = "duration_ms",
    };

    private const string SelectRun = $"SELECT {RunColumns} FROM runs WHERE id = @Id";

    public async Task<RunRow?> GetAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await GetAsync(connection, null, tenant, id);
    }

    public static async Task<RunRow?> GetAsync(IDbConnection connection, IDbTransaction? tx, string? tenant, string id)
    {
        var run = await connection.QuerySingleOrDefaultAsync<RunRow>(SelectRun, new { Id = id }, tx);
        // Another tenant's run is "not found", never "forbidden": its existence is not revealed.
        return run is not null && (tenant is null || run.TenantId == tenant) ? run : null;
    }

    private const string SelectErrors = """
        SELECT run_id AS RunId, seq AS Seq, topic AS Topic, error AS Error, node AS Node
        FROM run_errors WHERE run_id = @RunId ORDER BY seq
        """;

    public async Task<RunDetail?> GetDetailAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var run = await GetAsync(connection, null, tenant, id);
        if (run is null) return null;
        var errors = (await connection.QueryAsync<RunErrorRow>(SelectErrors, new { RunId = id })).ToList();
        return new RunDetail(run, errors);
    }

    private const string SelectSteps = $"SELECT {StepColumns} FROM steps WHERE run_id = @RunId ORDER BY seq, step_id";

    public async Task<IReadOnlyList<StepRow>> GetStepsAsync(string runId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<StepRow>(SelectSteps, new { RunId = runId })).ToList();
    }

    public static async Task<IReadOnlyList<StepRow>> GetStepsAsync(IDbConnection connection, IDbTransaction? tx, string runId) =>
        (await connection.QueryAsync<StepRow>(SelectSteps, new { RunId = runId }, tx)).ToList();

    /// WHERE clause from fixed fragments only; every value travels as a parameter.
    private static (string Where, DynamicParameters Parameters) BuildWhere(RunFilter filter)
    {
        var clauses = new List<string>();
        var p = new DynamicParameters();
        if (filter.Tenant is not null) { clauses.Add("tenant_id = @Tenant"); p.Add("Tenant", filter.Tenant); }
        if (filter.Workflow is not null) { clauses.Add("workflow_name = @Workflow"); p.Add("Workflow", filter.Workflow); }
        if (filter.Statuses.Count == 1) { clauses.Add("status = @Status"); p.Add("Status", filter.Statuses[0]); }
        else if (filter.Statuses.Count > 1) { clauses.Add("status IN @Statuses"); p.Add("Statuses", filter.Statuses); }
        if (filter.Q is not null)
        {
            clauses.Add("(id LIKE @QPrefix ESCAPE '\\' OR name LIKE @QLike ESCAPE '\\')");
            var escaped = filter.Q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
            p.Add("QPrefix", escaped + "%");
            p.Add("QLike", "%" + escaped + "%");
        }
        if (filter.From is { } from) { clauses.Add("created_at >= @From"); p.Add("From", DbTime.ToDb(from)); }
        if (filter.To is { } to) { clauses.Add("created_at < @To"); p.Add("To", DbTime.ToDb(to)); }
        var where = clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);
        return (where, p);
    }

    /// The ORDER BY for the filter's sort, from the whitelist only.
    private static string OrderBy(RunFilter filter)
    {
        var direction = filter.Descending ? "DESC" : "ASC";
        var sortColumn = SortColumns[filter.Sort];
        // Runs without a duration sort last either way; ties break on id so pages never overlap.
        return filter.Sort == RunSort.Duration
            ? $"(duration_ms IS NULL), duration_ms {direction}, id {direction}"
            : filter.Sort == RunSort.Status
                ? $"status {direction}, created_at DESC, id DESC"
                : $"{sortColumn} {direction}, id {direction}";
    }

    public async Task<RunPage> ListAsync(RunFilter filter, CancellationToken ct = default)
    {
        var (where, p) = BuildWhere(filter);
        var sql = new StringBuilder()
            .Append("SELECT ").Append(ListColumns).Append(" FROM runs ").Append(where)
            .Append(" ORDER BY ").Append(OrderBy(filter)).Append(" LIMIT @Limit OFFSET @Offset;\n")
            .Append("SELECT COUNT(*) FROM runs ").Append(where).Append(';')
            .ToString();
        p.Add("Limit", filter.Limit);
        p.Add("Offset", filter.Offset);
        await using var connection = await database.OpenAsync(ct);
        using var grid = await connection.QueryMultipleAsync(sql, p);
        var items = (await grid.ReadAsync<RunRow>()).ToList();
        var total = await grid.ReadSingleAsync<long>();
        return new RunPage(items, total, filter);
    }

    private const string SelectRecent = $"SELECT {ListColumns} FROM runs WHERE tenant_id = @Tenant ORDER BY created_at DESC, id DESC LIMIT @Limit";
    private const string SelectRecentAll = $"SELECT {ListColumns} FROM runs ORDER BY created_at DESC, id DESC LIMIT @Limit";

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

    // Two statements, one round trip: the period's totals and what is waiting or running now.
    private const string StatsSql = """
        SELECT COUNT(*) AS Total,
               COALESCE(SUM(status = 'completed'), 0) AS Completed,
               COALESCE(SUM(status = 'partial'), 0) AS Partial,
               COALESCE(SUM(status = 'failed'), 0) AS Failed,
               COALESCE(SUM(status = 'cancelled'), 0) AS Cancelled,
               COALESCE(SUM(dry_run = 1 OR status = 'dry'), 0) AS Dry,
               COALESCE(SUM(insights_created), 0) AS Insights,
               COALESCE(SUM(cost_usd), 0.0) AS CostUsd,
               COALESCE(SUM(tokens_input), 0) AS TokensInput,
               COALESCE(SUM(tokens_output), 0) AS TokensOutput,
               AVG(duration_ms) AS AvgDurationMs
        FROM runs WHERE {0} created_at >= @Since;
        SELECT COALESCE(SUM(status = 'queued'), 0) AS QueuedNow,
               COALESCE(SUM(status = 'running'), 0) AS RunningNow,
               MIN(CASE WHEN status = 'queued' THEN created_at END) AS OldestQueuedAt
        FROM runs WHERE {0} status IN ('queued', 'running');
        """;

    private static readonly string StatsTenant = string.Format(StatsSql, "tenant_id = @Tenant AND");
    private static readonly string StatsAll = string.Format(StatsSql, "");

    public async Task<RunStats> StatsAsync(string? tenant, DateTimeOffset since, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        using var grid = await connection.QueryMultipleAsync(tenant is null ? StatsAll : StatsTenant,
            new { Tenant = tenant, Since = DbTime.ToDb(since) });
        var totals = await grid.ReadSingleAsync<RunStats>();
        var now = await grid.ReadSingleAsync<RunStats>();
        return totals with { QueuedNow = now.QueuedNow, RunningNow = now.RunningNow, OldestQueuedAt = now.OldestQueuedAt };
    }
}
