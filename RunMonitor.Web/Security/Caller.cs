using System.Security.Claims;

namespace RunMonitor.Web.Security;

public static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Ingest = "ingest";
    public const string Admin = "admin";
}

/// Who is asking: their tenant (null for a super admin, who sees every tenant) and role.
public sealed record Caller(string? TenantId, string Role)
{
    public const string TenantClaim = "runmonitor:tenant";
    public const string DefaultTenant = "default";

    public bool IsSuperAdmin => Role == Roles.Admin && TenantId is null;

    /// Who a run's activity names for this caller's changes: `key {id} ({tenant})`, `loopback`, or `system` for
    /// RunMonitor's own callers (the demo worker, tests).
    public string Actor { get; init; } = Runs.ActivityLog.SystemActor;

    public static Caller From(ClaimsPrincipal user) =>
        new(user.FindFirstValue(TenantClaim), user.FindFirstValue(ClaimTypes.Role) ?? Roles.Viewer) { Actor = Runs.ActivityLog.ActorOf(user) };
}

public static class CallerExtensions
{
    public static Caller Caller(this HttpContext context) => Security.Caller.From(context.User);
}
