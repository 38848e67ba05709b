using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// The one stats definition: runs created in the period (`StatsPeriod`: whole UTC hours or days) by their current
/// status, except `QueuedNow` and `RunningNow`, the queue right now. The cards (`/ui/runs/stats`) show it,
/// `/api/admin/runs/stats` and the admin page add the p95 to it (`AdminStats.From`).
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

    /// The runs that tried and ended: completed, partial or failed. A cancelled run was stopped by someone before it
    /// could succeed or fail, and a dry run only rehearsed, so neither moves the failure rate (as the `failureRate` alert).
    public long Finished => Completed + Partial + Failed;

    /// Failed ÷ finished, to four places (the API's figure; the cards and `/admin` show it as a percentage), null when
    /// nothing finished.
    public double? FailureRate => Finished == 0 ? null : Math.Round((double)Failed / Finished, 4);
}

/// The period's totals in one round trip and no scan of the runs: its whole hours from the rollups, the queue from the
/// counters (the batch is the dialect's: its sums saturate differently).
public sealed class StatsStore(Database database, ISqlDialect dialect)
{
    // Dashboards poll the cards every few seconds: an answer is reused for a second at most, and only
    // while nothing has been written since it was read.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), (RunStats Stats, DateTimeOffset Since, long Commits, DateTimeOffset At)> _statsCache = new();

    public async Task<RunStats> StatsAsync(string? tenant, StatsPeriod period, DateTimeOffset now, CancellationToken ct = default)
    {
        var since = period.Since(now);
        var key = (tenant ?? "", period.Token);
        var commits = database.Commits;
        if (_statsCache.TryGetValue(key, out var cached) && cached.Since == since && cached.Commits == commits && now - cached.At < TimeSpan.FromSeconds(1) && now >= cached.At)
            return cached.Stats;
        var stats = await StatsAsync(tenant, since, ct);
        _statsCache[key] = (stats, since, commits, now);
        return stats;
    }

    /// `since` is the start of an hour (`StatsPeriod.Since`): the rollups count whole hours.
    public async Task<RunStats> StatsAsync(string? tenant, DateTimeOffset since, CancellationToken ct = default)
    {
        if (since.UtcTicks % TimeSpan.TicksPerHour != 0)
            throw new ArgumentException("The stats count whole hours of the rollups: give the start of one.", nameof(since));
        await using var connection = await database.OpenAsync(ct);
        using var grid = await connection.QueryMultipleAsync(dialect.Stats(allTenants: tenant is null), new
        {
            Tenant = tenant, SinceHour = DbTime.ToDb(since)[..13],
        });
        var totals = await grid.ReadSingleAsync<RunStats>();
        var queue = await grid.ReadSingleAsync<RunStats>();
        var oldest = await grid.ReadSingleOrDefaultAsync<string?>();
        return totals with { QueuedNow = queue.QueuedNow, RunningNow = queue.RunningNow, OldestQueuedAt = oldest };
    }
}
