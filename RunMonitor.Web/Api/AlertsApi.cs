using RunMonitor.Web.Alerts;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// SPEC "Alerts": `GET /api/alerts` → the caller's tenant's rules with their values and states, and their latest events.
public static class AlertsApi
{
    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        app.MapRead(Routes.ApiAlerts, GetAsync).RequireAuthorization(Policies.RequireRead);
        return app;
    }

    private static async Task<IResult> GetAsync(HttpContext http, AlertEvaluator alerts, CancellationToken ct)
    {
        var (tenant, errors) = TenantQuery.Parse(http);
        if (errors is not null) return Problems.BadParameters(errors);
        var rules = await alerts.StatusAsync(tenant, ct);
        var events = await alerts.EventsAsync(tenant, ct);
        return Results.Ok(new { rules = rules.Select(AlertJson.Rule), events = events.Select(AlertJson.Event) });
    }
}
