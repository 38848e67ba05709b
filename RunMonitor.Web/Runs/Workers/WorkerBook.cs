using System.Collections.Concurrent;
using System.Data;
using System.Text.Json;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// What a worker says of itself in a heartbeat; null fields keep what it said before.
public sealed record WorkerHeartbeat(IReadOnlyList<string>? Workflows, string? Host, string? Version);

/// One worker as `/api/workers` and `/ui/workers` show it.
public sealed record WorkerView(string Name, string TenantId, string Status, DateTimeOffset LastSeenAt, IReadOnlyList<string> RunsHeld,
    IReadOnlyList<string> Workflows, string? Host, string? Version, long Claimed24h, long Failed24h);

public static class WorkerStatus
{
    public const string Active = "active";
    public const string Idle = "idle";
    public const string Stale = "stale";
}

/// The workers behind the claims and leases (SPEC "Workers"): a heartbeat, a claim or a write for a run a worker
/// holds marks it seen. Claims and failures are counted in the claim's or the failure's own transaction; a leased
/// write marks its worker seen at most once per `WriteEvery` per instance (an in-memory note of the last write), so a
/// busy worker's steps and logs add no write of their own.
public sealed class WorkerBook(Database database, TimeProvider time) : IRunPurgeListener
{
    public const int MaxNameLength = 200;
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan ForgottenAfter = TimeSpan.FromHours(24);
    public static readonly TimeSpan WriteEvery = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<(string Tenant, string Name), DateTimeOffset> _lastWritten = new();

    // Retention: a worker unseen since the cutoff (long gone from the list, holding no lease) and the hours counted
    // before it, by ix_workers_last_seen and ix_worker_hours_hour; the list reads 25 hours back at most.
    private const string ForgetWorkers = "DELETE FROM workers WHERE last_seen_at < @Cutoff";
    private const string ForgetHours = "DELETE FROM worker_hours WHERE hour < @CutoffHour";

    async Task<bool> IRunPurgeListener.PurgeOlderAsync(System.Data.Common.DbConnection connection, IDbTransaction tx, string cutoff, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(ForgetWorkers, new { Cutoff = cutoff }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(ForgetHours, new { CutoffHour = cutoff[..13] }, tx, cancellationToken: ct));
        return false;
    }

    public static IEnumerable<(string What, string Sql, object Parameters, string Index)> RetentionStatements() =>
    [
        ("workers unseen since the cutoff", ForgetWorkers, new { Cutoff = "2026-11-01T00:00:00.000Z" }, "ix_workers_last_seen"),
        ("worker hours before the cutoff", ForgetHours, new { CutoffHour = "2026-11-01T00" }, "ix_worker_hours_hour"),
    ];

    private const string UpsertHeartbeat = """
        INSERT INTO workers (tenant_id, name, host, version, workflows, first_seen_at, last_seen_at)
        VALUES (@Tenant, @Name, @Host, @Version, @Workflows, @Now, @Now)
        ON CONFLICT (tenant_id, name) DO UPDATE SET last_seen_at = excluded.last_seen_at,
            host = COALESCE(excluded.host, workers.host), version = COALESCE(excluded.version, workers.version),
            workflows = COALESCE(excluded.workflows, workers.workflows)
        """;

    /// `POST /api/workers/{name}/heartbeat`: always written (a worker calls it every few seconds at most).
    public async Task HeartbeatAsync(string tenant, string name, WorkerHeartbeat beat, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await database.WriteAsync((connection, tx) => connection.ExecuteAsync(UpsertHeartbeat, new
        {
            Tenant = tenant, Name = name, beat.Host, beat.Version, Now = DbTime.ToDb(now),
            Workflows = beat.Workflows is null ? null : JsonSerializer.Serialize(beat.Workflows),
        }, tx), ct);
        _lastWritten[(tenant, name)] = now;
    }

    /// A heartbeat from a caller that runs inside the app (the demo worker), written at most once per `WriteEvery`.
    public Task BeatAsync(string tenant, string name, WorkerHeartbeat beat, CancellationToken ct = default) =>
        Due(tenant, name, time.GetUtcNow()) ? HeartbeatAsync(tenant, name, beat, ct) : Task.CompletedTask;

    private const string UpsertSeen = """
        INSERT INTO workers (tenant_id, name, first_seen_at, last_seen_at) VALUES (@Tenant, @Name, @Now, @Now)
        ON CONFLICT (tenant_id, name) DO UPDATE SET last_seen_at = excluded.last_seen_at
        """;

    private const string CountHour = """
        INSERT INTO worker_hours (tenant_id, name, hour, claimed, failed) VALUES (@Tenant, @Name, @Hour, @Claimed, @Failed)
        ON CONFLICT (tenant_id, name, hour) DO UPDATE SET
            claimed = worker_hours.claimed + excluded.claimed, failed = worker_hours.failed + excluded.failed
        """;

    private static Task CountAsync(IDbConnection connection, IDbTransaction tx, string tenant, string name, DateTimeOffset now, int claimed, int failed) =>
        connection.ExecutePreparedAsync(CountHour, new { Tenant = tenant, Name = name, Hour = Hour(now), Claimed = claimed, Failed = failed }, tx);

    private async Task SeenAsync(IDbConnection connection, IDbTransaction tx, string tenant, string name, DateTimeOffset now, bool always)
    {
        if (!always && !Due(tenant, name, now)) return;
        await connection.ExecutePreparedAsync(UpsertSeen, new { Tenant = tenant, Name = name, Now = DbTime.ToDb(now) }, tx);
        _lastWritten[(tenant, name)] = now;
    }

    /// In the claim's transaction: the worker is seen, and one more claim is counted for it in the run's tenant.
    public async Task ClaimedAsync(IDbConnection connection, IDbTransaction tx, string tenant, string worker, DateTimeOffset now)
    {
        await SeenAsync(connection, tx, tenant, worker, now, always: true);
        await CountAsync(connection, tx, tenant, worker, now, claimed: 1, failed: 0);
    }

    private const string TouchSeen = "UPDATE workers SET last_seen_at = @Now WHERE name = @Name AND last_seen_at < @Now";

    /// In an empty claim's transaction: the worker asked for work, so it is seen (at most once per `WriteEvery`), and a
    /// fleet polling an empty queue is idle, not stale or missing. A caller of no tenant (a super admin's worker) works
    /// for the tenants of the runs it claims: its rows there are seen, and it gets no row of a tenant it never worked for.
    public async Task PolledAsync(IDbConnection connection, IDbTransaction tx, string? tenant, string worker, DateTimeOffset now)
    {
        if (tenant is not null)
        {
            await SeenAsync(connection, tx, tenant, worker, now, always: false);
            return;
        }
        if (!Due(AnyTenant, worker, now)) return;
        await connection.ExecutePreparedAsync(TouchSeen, new { Name = worker, Now = DbTime.ToDb(now) }, tx);
        _lastWritten[(AnyTenant, worker)] = now;
    }

    // The key of a tenant-less caller's polls among the notes of the last write (not a tenant id: it has a '*').
    private const string AnyTenant = "*";

    /// In a write's transaction for a run (`before` as read, `after` as written): a write to a leased run is a
    /// heartbeat of its holder while the lease runs (the sweeper's write after it ran out is not), and a leased
    /// run that fails counts as a failure of that worker.
    public async Task RunWrittenAsync(IDbConnection connection, IDbTransaction tx, RunRow before, RunRow after, DateTimeOffset now)
    {
        if (before.LeaseOwner is not { } worker) return;
        if (!RunStatus.IsTerminal(before.Status) && after.Status == RunStatus.Failed)
            await CountAsync(connection, tx, before.TenantId, worker, now, claimed: 0, failed: 1);
        if (before.LeaseExpiresAt is { } expires && string.CompareOrdinal(expires, DbTime.ToDb(now)) >= 0)
            await SeenAsync(connection, tx, before.TenantId, worker, now, always: false);
    }

    private bool Due(string tenant, string name, DateTimeOffset now) =>
        !_lastWritten.TryGetValue((tenant, name), out var last) || now - last >= WriteEvery || now < last;

    private static string Hour(DateTimeOffset at) => DbTime.ToDb(at)[..13];

    public const string SelectWorkers = """
        SELECT tenant_id AS TenantId, name AS Name, host AS Host, version AS Version, workflows AS Workflows, last_seen_at AS LastSeenAt
        FROM workers WHERE last_seen_at >= @Since {0} ORDER BY name, tenant_id
        """;

    public const string SelectHeld = """
        SELECT tenant_id AS TenantId, lease_owner AS Worker, id AS Id FROM runs
        WHERE status = 'running' AND lease_owner IS NOT NULL {0} ORDER BY created_at, id
        """;

    public const string SelectCounts = """
        SELECT tenant_id AS TenantId, name AS Worker, CAST(SUM(claimed) AS BIGINT) AS Claimed, CAST(SUM(failed) AS BIGINT) AS Failed FROM worker_hours
        WHERE hour >= @FromHour {0} GROUP BY tenant_id, name
        """;

    public static string Scoped(string sql, string? tenant) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, tenant is null ? "" : "AND tenant_id = @Tenant");

    /// The workers seen in the last 24 hours, of one tenant (null: every tenant), with what they hold and did.
    public async Task<IReadOnlyList<WorkerView>> ListAsync(string? tenant, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        var rows = (await connection.QueryAsync<WorkerRow>(Scoped(SelectWorkers, tenant), new { Tenant = tenant, Since = DbTime.ToDb(now - ForgottenAfter) })).ToList();
        if (rows.Count == 0) return [];
        var held = (await connection.QueryAsync<HeldRow>(Scoped(SelectHeld, tenant), new { Tenant = tenant }))
            .ToLookup(h => (h.TenantId, h.Worker), h => h.Id);
        var counts = (await connection.QueryAsync<CountRow>(Scoped(SelectCounts, tenant), new { Tenant = tenant, FromHour = Hour(now - TimeSpan.FromHours(24)) }))
            .ToDictionary(c => (c.TenantId, c.Worker));
        return rows.Select(r =>
        {
            var lastSeen = DbTime.Parse(r.LastSeenAt);
            var runs = held[(r.TenantId, r.Name)].ToList();
            var status = now - lastSeen >= StaleAfter ? WorkerStatus.Stale : runs.Count > 0 ? WorkerStatus.Active : WorkerStatus.Idle;
            var count = counts.GetValueOrDefault((r.TenantId, r.Name));
            return new WorkerView(r.Name, r.TenantId, status, lastSeen, runs,
                r.Workflows is null ? [] : JsonSerializer.Deserialize<List<string>>(r.Workflows) ?? [], r.Host, r.Version,
                count?.Claimed ?? 0, count?.Failed ?? 0);
        }).ToList();
    }

    private const string DeleteForgotten = "DELETE FROM workers WHERE last_seen_at < @Before";
    private const string DeleteOldHours = "DELETE FROM worker_hours WHERE hour < @BeforeHour";

    /// Drops the workers unseen for 24 hours and the counts older than a day (called by the alert evaluator's pass).
    public Task PruneAsync(CancellationToken ct = default)
    {
        var before = time.GetUtcNow() - ForgottenAfter - TimeSpan.FromHours(1);
        return database.WriteAsync(async (connection, tx) =>
            await connection.ExecuteAsync(DeleteForgotten, new { Before = DbTime.ToDb(before) }, tx)
            + await connection.ExecuteAsync(DeleteOldHours, new { BeforeHour = Hour(before) }, tx), ct);
    }

    private sealed record WorkerRow
    {
        public string TenantId { get; init; } = "";
        public string Name { get; init; } = "";
        public string? Host { get; init; }
        public string? Version { get; init; }
        public string? Workflows { get; init; }
        public string LastSeenAt { get; init; } = "";
    }

    private sealed record HeldRow
    {
        public string TenantId { get; init; } = "";
        public string Worker { get; init; } = "";
        public string Id { get; init; } = "";
    }

    private sealed record CountRow
    {
        public string TenantId { get; init; } = "";
        public string Worker { get; init; } = "";
        public long Claimed { get; init; }
        public long Failed { get; init; }
    }
}

/// A worker's name: what `POST /api/workers/{name}/heartbeat` and a claim's `worker` accept.
public static class WorkerName
{
    /// Null when the name is acceptable, else what is accepted: the heartbeat's path and the claim's `worker` alike
    /// (the path took a U+202E that the claim refused).
    public static string? Problem(string name) =>
        name.Length is 0 or > WorkerBook.MaxNameLength || string.IsNullOrWhiteSpace(name) || Security.DisguisedText.Find(name) is not null
            ? $"accepts 1-{WorkerBook.MaxNameLength} characters, not only spaces, without control characters or invisible formatting characters (bidi controls such as U+202E, zero-width)"
            : null;
}
