using RunMonitor.Web.Api;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Runs;

/// `{at, actor, action, detail}`, as `GET /api/runs/{id}/activity` answers each entry.
public sealed record ActivityJson(DateTimeOffset At, string Actor, string Action, string? Detail)
{
    public static ActivityJson From(ActivityRow row) => new(DbTime.Parse(row.At), row.Actor, row.Action, row.Detail);
}

/// `GET /api/runs/{id}/activity`: who did what to the run, oldest first; another tenant's run is not found.
public static class ActivityApi
{
    public static IEndpointRouteBuilder MapActivityApi(this IEndpointRouteBuilder app)
    {
        app.MapRead(Routes.ApiRunActivity, ListAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery(RunTenant.Parameter);
        return app;
    }

    private static async Task<IResult> ListAsync(string id, HttpContext http, Database database, CancellationToken ct)
    {
        var activity = await ReadAsync(database, RunTenant.Of(http), id, ct);
        return activity is null ? Problems.RunNotFound(id) : Results.Ok(activity.Select(ActivityJson.From).ToList());
    }

    /// The run's activity, oldest first; null when the run is not there for that tenant (null tenant: any one).
    public static async Task<IReadOnlyList<ActivityRow>?> ReadAsync(Database database, string? tenant, string id, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var run = await RunRows.GetAsync(connection, null, tenant, id);
        return run is null ? null : await ActivityLog.ForRunAsync(connection, run.TenantId, run.Id);
    }
}
