using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// `GET /api/admin/runs/stats`: the stats (`RunStats`, the one definition, its failure rate too) and the p95 duration.
public sealed record AdminStats
{
    public long Total { get; init; }
    public long Completed { get; init; }
    public long Failed { get; init; }
    public long Partial { get; init; }
    public long Cancelled { get; init; }
    /// The period's dry runs (flagged `dryRun`, or Zos's `dry` status), as the runs page's Dry Runs card counts them.
    public long Dry { get; init; }
    public long Queued { get; init; }
    public long Running { get; init; }
    public double? FailureRate { get; init; }
    public double? AvgDurationMs { get; init; }
    public long? P95DurationMs { get; init; }
    public double CostUsd { get; init; }
    public long TokensInput { get; init; }
    public long TokensOutput { get; init; }
    /// For the admin page's queue card; not part of the JSON contract.
    [System.Text.Json.Serialization.JsonIgnore]
    public string? OldestQueuedAt { get; init; }

    public static AdminStats From(RunStats s, long? p95)
    {
        return new AdminStats
        {
            Total = s.Total, Completed = s.Completed, Failed = s.Failed, Partial = s.Partial, Cancelled = s.Cancelled, Dry = s.Dry,
            Queued = s.QueuedNow, Running = s.RunningNow,
            FailureRate = s.FailureRate,
            AvgDurationMs = s.AvgDurationMs is { } avg ? Math.Round(avg) : null, P95DurationMs = p95,
            CostUsd = Math.Round(s.CostUsd, 6), TokensInput = s.TokensInput, TokensOutput = s.TokensOutput,
            OldestQueuedAt = s.OldestQueuedAt,
        };
    }
}

public sealed record DayStatusCount
{
    public string Day { get; init; } = "";
    public string Status { get; init; } = "";
    public long Count { get; init; }
}

public sealed record WorkflowFailures
{
    public string TenantId { get; init; } = "";
    public string WorkflowName { get; init; } = "";
    public long Failed { get; init; }
    public long Total { get; init; }
    public double FailureRate => Total == 0 ? 0 : (double)Failed / Total;
}

public sealed record SkillDuration
{
    public string SkillId { get; init; } = "";
    public long Steps { get; init; }
    public double AvgMs { get; init; }
    public long P95Ms { get; init; }
}

public sealed record TenantModelUsage
{
    public string TenantId { get; init; } = "";
    public string? ModelName { get; init; }
    public long Runs { get; init; }
    public long TokensInput { get; init; }
    public long TokensOutput { get; init; }
    public double CostUsd { get; init; }
    public long AnyEstimated { get; init; }
    public bool IsEstimated => AnyEstimated != 0;
}

/// The super admin's all-tenant aggregates. Percentiles are nearest-rank (the value at rank
/// ceil(0.95 n) in duration order) with window functions, over a bounded sample: the timed runs among the period's
/// `RunSample` most recent runs, and at most `StepSample` timed steps of its `StepRunSample` most recent runs (exact
/// below that). The sample is a number of runs walked, not of timed ones found: a walk until 50,000 timed runs went
/// past every newer run without a duration (queued, running, or reported without times), so the page slowed as
/// those grew, to 1.1 s at 600,000 of them on PostgreSQL (docs/PERFORMANCE.md, "The admin page's samples").
public sealed class AdminStore(Database database, StatsStore stats, ISqlDialect dialect)
{
    public const int RunSample = 50_000;
    public const int StepRunSample = 25_000;
    public const int StepSample = 50_000;

    internal const string P95Runs = """
        WITH recent AS (
            SELECT duration_ms FROM runs WHERE created_at >= @Since
            ORDER BY created_at DESC LIMIT @Sample),
        sample AS (SELECT duration_ms FROM recent WHERE duration_ms IS NOT NULL)
        SELECT duration_ms FROM (
            SELECT duration_ms, ROW_NUMBER() OVER (ORDER BY duration_ms) AS rn, COUNT(*) OVER () AS n FROM sample) AS ranked
        WHERE rn = (n * 95 + 99) / 100
        """;

    /// `since` is the start of the period's first hour or day (`StatsPeriod.Since`).
    public async Task<AdminStats> StatsAsync(DateTimeOffset since, CancellationToken ct = default)
    {
        var totals = await stats.StatsAsync(null, since, ct);
        return AdminStats.From(totals, await P95DurationAsync(since, RunSample, ct));
    }

    /// The p95 of the durations among the period's `runs` most recent runs.
    internal async Task<long?> P95DurationAsync(DateTimeOffset since, int runs, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<long?>(P95Runs, new { Since = DbTime.ToDb(since), Sample = runs });
    }

    // From the hourly rollups the triggers keep (0005), not by scanning a month of runs.
    internal const string RunsPerDay = """
        SELECT substr(hour, 1, 10) AS Day, status AS Status, SUM(runs) AS Count
        FROM run_rollups WHERE hour >= @SinceHour
        GROUP BY Day, Status
        """;

    /// `since` is the start of a UTC day (or hour): rollups are per hour of creation.
    public async Task<IReadOnlyList<DayStatusCount>> RunsPerDayAsync(DateTimeOffset since, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<DayStatusCount>(RunsPerDay, new { SinceHour = DbTime.ToDb(since)[..13] })).ToList();
    }

    // From the daily rollup the triggers keep (0006), not by grouping a month of runs.
    internal const string TopFailing = """
        SELECT tenant_id AS TenantId, workflow_name AS WorkflowName,
               SUM(CASE WHEN status = 'failed' THEN runs ELSE 0 END) AS Failed, SUM(runs) AS Total
        FROM run_daily WHERE day >= @SinceDay
        GROUP BY tenant_id, workflow_name
        HAVING SUM(CASE WHEN status = 'failed' THEN runs ELSE 0 END) > 0
        ORDER BY Failed DESC, Total DESC, tenant_id, workflow_name
        LIMIT @Limit
        """;

    /// `since` is the start of a UTC day: the rollup is per day of creation.
    public async Task<IReadOnlyList<WorkflowFailures>> TopFailingAsync(DateTimeOffset since, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<WorkflowFailures>(TopFailing, new { SinceDay = DbTime.ToDb(since)[..10], Limit = limit })).ToList();
    }

    /// The runs newest first (an index range, at most `StepRunSample`), then each run's steps by its key (`stepsOfRun`,
    /// the dialect's: its rows for run `r`, timed and with a skill, as `s`). Each engine has to be held to that order:
    /// left to choose, SQLite walked every step and looked up its run (85 s at 10,000,000 runs against 0.05 s), and
    /// PostgreSQL read every step into a hash join (1.1 s at 1,500,000 runs against 0.09 s).
    internal static string SlowestSkillsFor(string stepsOfRun) => $"""
        WITH recent AS (
            SELECT tenant_id, id, created_at FROM runs WHERE created_at >= @Since
            ORDER BY created_at DESC LIMIT @Runs),
        sample AS (
            SELECT s.skill_id AS SkillId, s.duration_ms AS DurationMs
            FROM recent r CROSS JOIN {stepsOfRun}
            ORDER BY r.created_at DESC LIMIT @Sample)
        SELECT SkillId, Steps, AvgMs, DurationMs AS P95Ms FROM (
            SELECT SkillId, DurationMs,
                   ROW_NUMBER() OVER (PARTITION BY SkillId ORDER BY DurationMs) AS rn,
                   COUNT(*) OVER (PARTITION BY SkillId) AS Steps,
                   AVG(DurationMs) OVER (PARTITION BY SkillId) AS AvgMs
            FROM sample) AS ranked
        WHERE rn = (Steps * 95 + 99) / 100
        ORDER BY P95Ms DESC, SkillId
        LIMIT @Limit
        """;

    public Task<IReadOnlyList<SkillDuration>> SlowestSkillsAsync(DateTimeOffset since, int limit, CancellationToken ct = default) =>
        SlowestSkillsAsync(since, limit, StepRunSample, StepSample, ct);

    /// The slowest skills among at most `steps` timed steps of the period's `runs` most recent runs.
    internal async Task<IReadOnlyList<SkillDuration>> SlowestSkillsAsync(DateTimeOffset since, int limit, int runs, int steps, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<SkillDuration>(dialect.SlowestSkills, new { Since = DbTime.ToDb(since), Limit = limit, Runs = runs, Sample = steps })).ToList();
    }

    // From the daily rollup (0006), in the dialect's spelling: token sums saturate as the stats' do.
    /// `since` is the start of a UTC day: the rollup is per day of creation.
    public async Task<IReadOnlyList<TenantModelUsage>> UsageAsync(DateTimeOffset since, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<TenantModelUsage>(dialect.UsageByTenantModel, new { SinceDay = DbTime.ToDb(since)[..10] })).ToList();
    }
}
