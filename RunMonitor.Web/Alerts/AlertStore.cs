using System.Data;
using System.Globalization;
using Dapper;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Alerts;

/// A rule's current state as stored by the last evaluation.
public sealed record AlertStateRow
{
    public string Rule { get; init; } = "";
    public string? TenantId { get; init; }
    public string State { get; init; } = AlertState.Ok;
    public double? Value { get; init; }
    public double Threshold { get; init; }
    public string EvaluatedAt { get; init; } = "";
    public string ChangedAt { get; init; } = "";
}

public sealed record AlertEventRow
{
    public long Id { get; init; }
    public string Rule { get; init; } = "";
    public string? TenantId { get; init; }
    public string State { get; init; } = "";
    public double? Value { get; init; }
    public double Threshold { get; init; }
    public string At { get; init; } = "";
}

/// A rule with its stored state, as `/api/alerts`, the banner and `/admin` show it.
public sealed record AlertRuleStatus(AlertRule Rule, string State, double? Value, DateTimeOffset? Since);

/// What the rules measure, from the counters and rollups the triggers keep (run_counts, run_rollups, run_daily,
/// workflows) or an index range bounded by the rule's window: never a scan of the runs. And the states and events.
public static class AlertStore
{
    // {0}: AND tenant_id = @Tenant, or nothing; {1}: AND workflow_name = @Workflow, or nothing. Runs created in the
    // window that have finished: a covering index range (tenant|workflow, status, created_at).
    public const string FailureRateSql = """
        SELECT CAST(COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS Failed, COUNT(*) AS Finished
        FROM runs WHERE status IN ('completed', 'partial', 'failed') AND created_at >= @From {0} {1}
        """;

    // A run running since before the window was created before it too: the index range stops there.
    public const string StuckRunsSql = """
        SELECT COUNT(*) FROM runs WHERE status = 'running' AND created_at < @Before AND started_at < @Before {0} {1}
        """;

    public const string QueueDepthSql = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM run_counts WHERE status = 'queued' {0} {1}";

    // Hourly rollups (no workflow) or daily ones (a workflow's): the last 24 hours rounded out to whole hours or days.
    public const string CostPerDaySql = "SELECT CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) FROM run_rollups WHERE hour >= @FromHour {0}";
    public const string WorkflowCostPerDaySql = "SELECT CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) FROM run_daily WHERE day >= @FromDay {0} {1}";

    // The last time a run of the workflow (or of any, for none) was reported, from the workflows table ingest keeps.
    public const string LastRunSql = "SELECT MAX(last_seen_at) FROM workflows WHERE 1 = 1 {0} {1}";

    /// The statement a rule runs, its scope filled in.
    public static string SqlFor(AlertRule rule)
    {
        var template = rule.Kind switch
        {
            AlertKind.FailureRate => FailureRateSql,
            AlertKind.StuckRuns => StuckRunsSql,
            AlertKind.QueueDepth => QueueDepthSql,
            AlertKind.CostPerDay => rule.Workflow is null ? CostPerDaySql : WorkflowCostPerDaySql,
            _ => LastRunSql,
        };
        return string.Format(CultureInfo.InvariantCulture, template,
            rule.Tenant is null ? "" : "AND tenant_id = @Tenant", rule.Workflow is null ? "" : "AND workflow_name = @Workflow");
    }

    public static object ParametersFor(AlertRule rule, DateTimeOffset now)
    {
        var since = now - rule.Window;
        var costSince = DbTime.ToDb(CostSince(rule, now));
        return new
        {
            rule.Tenant, rule.Workflow, From = DbTime.ToDb(since), Before = DbTime.ToDb(since),
            FromHour = costSince[..13], FromDay = costSince[..10],
        };
    }

    /// Where a cost per day starts counting at `now`: 24 hours back, rounded out to the whole hour of the rollups (a
    /// workflow's cost: to the whole UTC day of the daily rollups, the only ones that know the workflow).
    public static DateTimeOffset CostSince(AlertRule rule, DateTimeOffset now)
    {
        var dayAgo = (now - TimeSpan.FromHours(24)).ToUniversalTime();
        return rule.Workflow is null
            ? new DateTimeOffset(dayAgo.Year, dayAgo.Month, dayAgo.Day, dayAgo.Hour, 0, 0, TimeSpan.Zero)
            : new DateTimeOffset(dayAgo.Year, dayAgo.Month, dayAgo.Day, 0, 0, 0, TimeSpan.Zero);
    }

    private sealed record Rate
    {
        public long Failed { get; init; }
        public long Finished { get; init; }
    }

    /// The rule's value now: a fraction, a count, USD, or minutes since the last run (null: not enough runs for a
    /// rate; no run ever for a silence).
    public static async Task<double?> MeasureAsync(IDbConnection connection, IDbTransaction? tx, AlertRule rule, DateTimeOffset now)
    {
        var sql = SqlFor(rule);
        var p = ParametersFor(rule, now);
        switch (rule.Kind)
        {
            case AlertKind.FailureRate:
                var rate = await connection.QuerySingleAsync<Rate>(sql, p, tx);
                return rate.Finished >= AlertRule.MinimumFinished ? Math.Round((double)rate.Failed / rate.Finished, 4) : null;
            case AlertKind.Silence:
                var last = await connection.ExecuteScalarAsync<string?>(sql, p, tx);
                return last is null ? null : Math.Floor((now - DbTime.Parse(last)).TotalMinutes);
            case AlertKind.CostPerDay:
                return Math.Round(await connection.ExecuteScalarAsync<double>(sql, p, tx), 4);
            default:
                return await connection.ExecuteScalarAsync<long>(sql, p, tx);
        }
    }

    private const string SelectStates = """
        SELECT rule AS Rule, tenant_id AS TenantId, state AS State, value AS Value, threshold AS Threshold,
            evaluated_at AS EvaluatedAt, changed_at AS ChangedAt
        FROM alert_states
        """;

    public static async Task<IReadOnlyDictionary<string, AlertStateRow>> StatesAsync(IDbConnection connection, IDbTransaction? tx) =>
        (await connection.QueryAsync<AlertStateRow>(SelectStates, transaction: tx)).ToDictionary(s => s.Rule, StringComparer.Ordinal);

    private const string UpsertState = """
        INSERT INTO alert_states (rule, tenant_id, state, value, threshold, evaluated_at, changed_at)
        VALUES (@Rule, @TenantId, @State, @Value, @Threshold, @EvaluatedAt, @ChangedAt)
        ON CONFLICT (rule) DO UPDATE SET tenant_id = excluded.tenant_id, state = excluded.state, value = excluded.value,
            threshold = excluded.threshold, evaluated_at = excluded.evaluated_at, changed_at = excluded.changed_at
        """;

    public static Task SaveStateAsync(IDbConnection connection, IDbTransaction tx, AlertStateRow state) =>
        connection.ExecuteAsync(UpsertState, state, tx);

    private const string DeleteState = "DELETE FROM alert_states WHERE rule = @Rule";

    public static Task ForgetAsync(IDbConnection connection, IDbTransaction tx, string rule) =>
        connection.ExecuteAsync(DeleteState, new { Rule = rule }, tx);

    private const string InsertEvent = """
        INSERT INTO alert_events (rule, tenant_id, state, value, threshold, at) VALUES (@Rule, @TenantId, @State, @Value, @Threshold, @At)
        RETURNING id
        """;

    public static async Task<AlertEventRow> RecordAsync(IDbConnection connection, IDbTransaction tx, AlertEventRow row) =>
        row with { Id = await connection.ExecuteScalarAsync<long>(InsertEvent, row, tx) };

    private const string SelectEvents = """
        SELECT id AS Id, rule AS Rule, tenant_id AS TenantId, state AS State, value AS Value, threshold AS Threshold, at AS At
        FROM alert_events {0} ORDER BY id DESC LIMIT @Limit
        """;

    /// The latest events of one tenant's rules (null: every rule's), newest first.
    public static async Task<IReadOnlyList<AlertEventRow>> EventsAsync(IDbConnection connection, string? tenant, int limit) =>
        (await connection.QueryAsync<AlertEventRow>(string.Format(CultureInfo.InvariantCulture, SelectEvents, tenant is null ? "" : "WHERE tenant_id = @Tenant"),
            new { Tenant = tenant, Limit = limit })).ToList();
}
