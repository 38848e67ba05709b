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
        app.MapRead(Routes.ApiAdminRunsStats, StatsAsync).RequireAuthorization(Policies.RequireAdmin);
        app.MapRead(Routes.ApiAdminKeys, KeysAsync).RequireAuthorization(Policies.RequireAdmin).AcceptsQuery();
        app.MapDelete(Routes.ApiAdminKey, RevokeKeyAsync).RequireAuthorization(Policies.RequireAdmin).AcceptsQuery();
        return app;
    }

    private static async Task<IResult> StatsAsync(HttpContext http, AdminStore store, TimeProvider time, CancellationToken ct)
    {
        var (query, errors) = StatsQuery.Parse(http.Request.Query.ToPairs(), http.Caller(), tenantAccepted: false);
        if (errors is not null) return Problems.BadParameters(errors);
        return Results.Ok(await store.StatsAsync(query!.Period.Since(time.GetUtcNow()), ct));
    }

    private static async Task<IResult> KeysAsync(ApiKeyStore keys, CancellationToken ct) =>
        Results.Ok((await keys.ListAsync(ct)).Select(k => new { k.Id, k.Prefix, tenantId = k.TenantId, k.Role, k.Source, k.CreatedAt, k.RevokedAt }));

    private static async Task<IResult> RevokeKeyAsync(string id, ApiKeyStore keys, CancellationToken ct) =>
        await keys.RevokeAsync(id, ct)
            ? Results.NoContent()
            : Problems.Status(StatusCodes.Status404NotFound, "Key not found", $"No active stored key '{id}' (configuration keys are removed from configuration).");
}
