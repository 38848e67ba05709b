using System.Data;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// The worker protocol's statements: claim, lease renewal and expiry, cancel. Each runs inside the
/// caller's transaction from `Database.WriteAsync` and is guarded by the state it expects.
public sealed partial class RunStore
{
    // One statement picks and takes the oldest queued run, so two workers can never both get it. On
    // PostgreSQL the pick skips rows another claim has locked: concurrent claims through any instance take
    // different runs at once instead of queueing on the oldest one (and never the same one).
    private const string ClaimSql = """
        UPDATE runs SET status = 'running', started_at = COALESCE(started_at, @Now), lease_owner = @Worker,
            lease_expires_at = @ExpiresAt, lease_seconds = @LeaseSeconds, cancel_requested = 0, updated_at = @Now
        WHERE pk = (SELECT pk FROM runs WHERE status = 'queued' {0} {1} ORDER BY created_at, pk LIMIT 1{2})
          AND status = 'queued'
        RETURNING tenant_id AS TenantId, id AS Id
        """;

    internal static readonly string ClaimAny = string.Format(ClaimSql, "", "", "");
    internal static readonly string ClaimTenant = string.Format(ClaimSql, "AND tenant_id = @Tenant", "", "");
    internal static readonly string ClaimAnyWorkflows = string.Format(ClaimSql, "", "AND workflow_name IN @Workflows", "");
    internal static readonly string ClaimTenantWorkflows = string.Format(ClaimSql, "AND tenant_id = @Tenant", "AND workflow_name IN @Workflows", "");

    private const string SkipLocked = " FOR UPDATE SKIP LOCKED";
    internal static readonly string ClaimAnyPostgres = string.Format(ClaimSql, "", "", SkipLocked);
    internal static readonly string ClaimTenantPostgres = string.Format(ClaimSql, "AND tenant_id = @Tenant", "", SkipLocked);
    internal static readonly string ClaimAnyWorkflowsPostgres = string.Format(ClaimSql, "", "AND workflow_name = ANY(@Workflows)", SkipLocked);
    internal static readonly string ClaimTenantWorkflowsPostgres = string.Format(ClaimSql, "AND tenant_id = @Tenant", "AND workflow_name = ANY(@Workflows)", SkipLocked);

    /// The tenant and id of the run now leased to `worker`, or null when nothing of those workflows waits.
    public static Task<ClaimedKey?> ClaimNextAsync(IDbConnection connection, IDbTransaction tx, string? tenant,
        IReadOnlyList<string> workflows, string worker, int leaseSeconds, DateTimeOffset now)
    {
        var sql = (tenant is null, workflows.Count == 0, connection.IsPostgres()) switch
        {
            (true, true, false) => ClaimAny,
            (true, false, false) => ClaimAnyWorkflows,
            (false, true, false) => ClaimTenant,
            (false, false, false) => ClaimTenantWorkflows,
            (true, true, true) => ClaimAnyPostgres,
            (true, false, true) => ClaimAnyWorkflowsPostgres,
            (false, true, true) => ClaimTenantPostgres,
            (false, false, true) => ClaimTenantWorkflowsPostgres,
        };
        return connection.QuerySingleOrDefaultAsync<ClaimedKey?>(sql, new
        {
            Tenant = tenant, Workflows = workflows.ToArray(), Worker = worker, LeaseSeconds = leaseSeconds,
            Now = DbTime.ToDb(now), ExpiresAt = DbTime.ToDb(now.AddSeconds(leaseSeconds)),
        }, tx);
    }

    private const string RenewLease = """
        UPDATE runs SET lease_expires_at = @ExpiresAt
        WHERE tenant_id = @TenantId AND id = @Id AND status = 'running' AND lease_owner IS NOT NULL AND lease_seconds IS NOT NULL
        """;

    /// Any write for a leased run moves its lease on by the length the worker asked for when it claimed.
    public static Task RenewLeaseAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset now) =>
        run.LeaseSeconds is { } seconds && run.LeaseOwner is not null
            ? connection.ExecutePreparedAsync(RenewLease, new { run.TenantId, run.Id, ExpiresAt = DbTime.ToDb(now.AddSeconds(seconds)) }, tx)
            : Task.CompletedTask;

    internal const string SelectExpiredLeases = $"""
        SELECT {RunColumns} FROM runs
        WHERE status = 'running' AND lease_expires_at IS NOT NULL AND lease_expires_at < @Now
        ORDER BY lease_expires_at LIMIT 100
        """;

    // Every instance sweeps: on PostgreSQL each takes the expired runs no other sweep holds, and keeps them locked until it commits.
    internal const string SelectExpiredLeasesPostgres = SelectExpiredLeases + SkipLocked;

    public static async Task<IReadOnlyList<RunRow>> ExpiredLeasesAsync(IDbConnection connection, IDbTransaction tx, DateTimeOffset now) =>
        (await connection.QueryAsync<RunRow>(connection.IsPostgres() ? SelectExpiredLeasesPostgres : SelectExpiredLeases,
            new { Now = DbTime.ToDb(now) }, tx)).ToList();

    private const string FailRunningSteps = """
        UPDATE steps SET status = 'failed', completed_at = @Now, error_message = @Message, updated_at = @Now
        WHERE tenant_id = @TenantId AND run_id = @RunId AND status = 'running'
        """;

    /// The steps a vanished worker left running failed with the run.
    public static Task FailRunningStepsAsync(IDbConnection connection, IDbTransaction tx, RunRow run, string message, DateTimeOffset now) =>
        connection.ExecuteAsync(FailRunningSteps, new { run.TenantId, RunId = run.Id, Message = message, Now = DbTime.ToDb(now) }, tx);

    private const string CancelQueued = """
        UPDATE runs SET status = 'cancelled', cancel_requested = 1, completed_at = @Now, updated_at = @Now
        WHERE tenant_id = @TenantId AND id = @Id AND status = 'queued'
        """;

    /// True when the run was still queued and is now cancelled.
    public static async Task<bool> CancelQueuedAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset now) =>
        await connection.ExecuteAsync(CancelQueued, new { run.TenantId, run.Id, Now = DbTime.ToDb(now) }, tx) == 1;

    private const string RequestCancel = """
        UPDATE runs SET cancel_requested = 1, updated_at = @Now
        WHERE tenant_id = @TenantId AND id = @Id AND status = 'running'
        """;

    /// True when the run is running and its worker will now be told to stop.
    public static async Task<bool> RequestCancelAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset now) =>
        await connection.ExecuteAsync(RequestCancel, new { run.TenantId, run.Id, Now = DbTime.ToDb(now) }, tx) == 1;
}

/// The key of a claimed run: its tenant and id.
public sealed record ClaimedKey
{
    public string TenantId { get; init; } = "";
    public string Id { get; init; } = "";
}
