using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// The one stats definition: runs created in the period by their current status, except `QueuedNow` and
/// `RunningNow`, the queue right now. The cards (`/ui/runs/stats`) show it, `/api/admin/runs/stats` and the admin
/// page add failure rate and p95 to it (`AdminStats.From`).
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

/// The period's totals in one round trip and no scan of the period: whole hours from the rollups, the first partial
/// hour from the runs, the queue from the counters (the batch is the dialect's: its sums saturate differently).
public sealed class StatsStore(Database database, ISqlDialect dialect)
{
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
        using var grid = await connection.QueryMultipleAsync(dialect.Stats(allTenants: tenant is null), new
        {
            Tenant = tenant, Since = DbTime.ToDb(since), FirstHourStart = DbTime.ToDb(firstHour), FirstHour = DbTime.ToDb(firstHour)[..13],
        });
        var totals = await grid.ReadSingleAsync<RunStats>();
        var queue = await grid.ReadSingleAsync<RunStats>();
        var oldest = await grid.ReadSingleOrDefaultAsync<string?>();
        return totals with { QueuedNow = queue.QueuedNow, RunningNow = queue.RunningNow, OldestQueuedAt = oldest };
    }
}
