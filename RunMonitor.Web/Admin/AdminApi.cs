using RunMonitor.Web.Api;
using RunMonitor.Web.Pages.Runs;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Admin;

/// `/api/admin/*`: super admin only.
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").RequireAuthorization(Policies.RequireAdmin);
        admin.MapGet("/runs/stats", StatsAsync);
        admin.MapGet("/keys", KeysAsync);
        admin.MapDelete("/keys/{id}", RevokeKeyAsync);
        return app;
    }

    private static async Task<IResult> StatsAsync(HttpContext http, AdminStore store, TimeProvider time, CancellationToken ct)
    {
        foreach (var key in http.Request.Query.Keys)
        {
            if (key != "period") return Problems.BadParameter(new BadParameter(key, "is not a stats parameter; accepted: period"));
        }
        var values = http.Request.Query["period"];
        // Absent means the default; given, it must be one of the periods (an empty value is not).
        var period = values.Count == 0 ? StatsPeriod.Default : values.Count > 1 || values[0] is not { Length: > 0 } ? null : StatsPeriod.Parse(values[0]);
        if (period is null) return Problems.BadParameter(new BadParameter("period", "accepts 24h, 7d or 30d (default 7d)"));
        return Results.Ok(await store.StatsAsync(time.GetUtcNow() - period.Span, ct));
    }

    private static async Task<IResult> KeysAsync(ApiKeyStore keys, CancellationToken ct) =>
        Results.Ok((await keys.ListAsync(ct)).Select(k => new { k.Id, k.Prefix, tenantId = k.TenantId, k.Role, k.Source, k.CreatedAt, k.RevokedAt }));

    private static async Task<IResult> RevokeKeyAsync(string id, ApiKeyStore keys, CancellationToken ct) =>
        await keys.RevokeAsync(id, ct)
            ? Results.NoContent()
            : Problems.Status(StatusCodes.Status404NotFound, "Key not found", $"No active stored key '{id}' (configuration keys are removed from configuration).");
}
