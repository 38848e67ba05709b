using System.Data;
using System.Security.Claims;
using Dapper;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Runs;

/// One entry of a run's activity: when, who (`ActivityLog.ActorOf`), what (`ActivityActions`) and a line of detail.
public sealed record ActivityRow
{
    public long Id { get; init; }
    public string TenantId { get; init; } = "";
    public string RunId { get; init; } = "";
    public string At { get; init; } = "";
    public string Actor { get; init; } = "";
    public string Action { get; init; } = "";
    public string? Detail { get; init; }
}

/// The words of `action` (SPEC "Activity"); a status a run reports is recorded under its own word (`completed`, `failed` …).
public static class ActivityActions
{
    public const string Created = "created";
    public const string Claimed = "claimed";
    public const string Retried = "retried";
    public const string RetryOf = "retry-of";
    public const string CancelRequested = "cancel-requested";
    public const string Cancelled = "cancelled";
    public const string LeaseExpired = "lease-expired";
    public const string Bulk = "bulk";
    /// A `running` reported by a worker (a claim records `claimed` instead).
    public const string Started = "started";
}

/// Who-did-what on every run (SPEC "Activity"): each write path records its change here, inside its own transaction,
/// so the entry commits with the change or not at all, and any later caller of those paths records it too.
public static partial class ActivityLog
{
    public const string SystemActor = "system";
    public const string LoopbackActor = "loopback";
    public const int MaxDetailLength = 500;

    /// `key {id} ({tenant})` (`all tenants` for a super admin's key), or `loopback` for the trusted local caller.
    public static string ActorOf(ClaimsPrincipal user)
    {
        if (SignedInWith.Of(user) == SignedInWith.Loopback) return LoopbackActor;
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity?.Name;
        if (id is null) return SystemActor;
        return $"key {id} ({user.FindFirstValue(Caller.TenantClaim) ?? "all tenants"})";
    }

    private const string Insert = """
        INSERT INTO run_activity (tenant_id, run_id, at, actor, action, detail)
        VALUES (@TenantId, @RunId, @At, @Actor, @Action, @Detail)
        """;

    /// Records one change of the run, in the caller's transaction.
    public static Task RecordAsync(IDbConnection connection, IDbTransaction tx, string tenantId, string runId, DateTimeOffset at,
        string actor, string action, string? detail = null) =>
        RecordAsync(connection, tx, Entry(tenantId, runId, at, actor, action, detail));

    /// Records an entry made by `Entry`, in the caller's transaction.
    public static Task RecordAsync(IDbConnection connection, IDbTransaction? tx, ActivityRow entry) =>
        connection.ExecutePreparedAsync(Insert, entry, tx);

    /// The row one change of the run is stored as, actor and detail cut to their lengths.
    public static ActivityRow Entry(string tenantId, string runId, DateTimeOffset at, string actor, string action, string? detail = null) => new()
    {
        TenantId = tenantId, RunId = runId, At = DbTime.ToDb(at)!, Actor = Cut(actor, 200), Action = action,
        Detail = detail is null ? null : Cut(detail, MaxDetailLength),
    };

    public static Task RecordAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset at, string actor, string action,
        string? detail = null) =>
        RecordAsync(connection, tx, run.TenantId, run.Id, at, actor, action, detail);

    /// The entry a status change of `before` into `after` records, or null when the status stayed.
    public static (string Action, string? Detail)? ForTransition(RunRow before, RunRow after)
    {
        if (before.Status == after.Status) return null;
        var action = after.Status == RunStatus.Running ? ActivityActions.Started : after.Status;
        var detail = $"{before.Status} → {after.Status}";
        if (after.ErrorMessage is { } error && after.Status == RunStatus.Failed) detail += ": " + error;
        return (action, detail);
    }

    /// A claim's detail: how long the lease is and whose key took it.
    public static string Leased(long seconds, string by) => $"leased for {seconds} s by {by}";

    /// A retry's details, on the old run and on the new one; `how`: "whole", "run again", "from step X", ….
    public static string RetriedAs(string newId, string how) => $"retried as {newId} ({how})";

    public static string RetryOf(string oldId, string how) => $"retry of {oldId} ({how})";

    /// The run id in a detail that `RetriedAs` or `RetryOf` wrote (group `id`), which the run page links.
    [System.Text.RegularExpressions.GeneratedRegex(@"(?:retried as|retry of) (?<id>[A-Za-z0-9][A-Za-z0-9_.:-]{0,127})(?= |$)")]
    public static partial System.Text.RegularExpressions.Regex RunNamed();

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// `ForRunAsync`'s statement, also sent in the run page's batch (`RunViews.GetRunPageAsync`).
    public const string SelectForRun = """
        SELECT id AS Id, tenant_id AS TenantId, run_id AS RunId, at AS At, actor AS Actor, action AS Action, detail AS Detail
        FROM run_activity WHERE tenant_id = @TenantId AND run_id = @RunId ORDER BY id
        """;

    /// The run's activity, oldest first.
    public static async Task<IReadOnlyList<ActivityRow>> ForRunAsync(IDbConnection connection, string tenantId, string runId, IDbTransaction? tx = null) =>
        (await connection.QueryAsync<ActivityRow>(SelectForRun, new { TenantId = tenantId, RunId = runId }, tx)).ToList();
}
