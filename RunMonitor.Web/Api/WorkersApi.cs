using System.Text.Json;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// SPEC "Workers": a worker's heartbeat, and the list of workers of the caller's tenant.
public static class WorkersApi
{
    public static IEndpointRouteBuilder MapWorkersApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.ApiWorkerHeartbeat, HeartbeatAsync).RequireAuthorization(Policies.RequireIngest).AcceptsQuery();
        app.MapRead(Routes.ApiWorkers, ListAsync).RequireAuthorization(Policies.RequireRead);
        return app;
    }

    /// `{workflows?, host?, version?}` (an empty body too) → 200 with the worker as the list shows it.
    private static async Task<IResult> HeartbeatAsync(string name, HttpContext http, WorkerBook workers, CancellationToken ct)
    {
        name = NameInPath(http, name);
        if (WorkerName.Problem(name) is { } problem) return Problems.Validation(new() { ["name"] = [problem] });
        var (root, bad) = await ControlApi.ReadOptionalJsonAsync(http, ct);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, List<string>>();
        var beat = ParseHeartbeat(root, errors);
        if (beat is null) return Problems.Validation(errors);
        var tenant = http.Caller().TenantId ?? Caller.DefaultTenant;
        await workers.HeartbeatAsync(tenant, name, beat, ct);
        var seen = (await workers.ListAsync(tenant, ct)).FirstOrDefault(w => w.Name == name);
        return seen is null ? Results.Ok() : Results.Ok(seen);
    }

    /// The worker's name as the request's path spells it. ASP.NET Core unescapes every `%XX` of a path but `%2F` (a `/`,
    /// kept so a path's segments stay apart), so `pool%2F7` (the worker `pool/7`) and `pool%252F7` (the worker
    /// `pool%2F7`) would both arrive as `pool%2F7`: a name with a `%` left in it is read again from the target as sent.
    private static string NameInPath(HttpContext http, string routed)
    {
        if (!routed.Contains('%')) return routed;
        var target = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        // "/api/workers/{name}/heartbeat", before any query.
        var segments = target?.Split('?', 2)[0].Split('/');
        return segments is [_, _, _, var escaped, _] ? Uri.UnescapeDataString(escaped) : routed;
    }

    public static WorkerHeartbeat? ParseHeartbeat(JsonElement root, Dictionary<string, List<string>> errors)
    {
        if (root.ValueKind == JsonValueKind.Undefined) return new WorkerHeartbeat(null, null, null);
        var body = JsonBody.Object(root, errors);
        if (body is null) return null;
        var workflows = body.Strings("workflows", 100, 200);
        var host = body.String("host", 200);
        var version = body.String("version", 100);
        body.RejectUnknown();
        return errors.Count > 0 ? null : new WorkerHeartbeat(workflows, host, version);
    }

    private static async Task<IResult> ListAsync(HttpContext http, WorkerBook workers, CancellationToken ct)
    {
        var (tenant, errors) = TenantQuery.Parse(http);
        if (errors is not null) return Problems.BadParameters(errors);
        return Results.Ok(await workers.ListAsync(tenant, ct));
    }
}

/// The one parameter the workers' and alerts' reads take: `tenant`, a super admin's choice of one tenant.
public static class TenantQuery
{
    /// The tenant to read (the caller's own, a super admin's choice, or null for every tenant), or every parameter
    /// that was wrong, in the query's order.
    public static (string? Tenant, IReadOnlyList<BadParameter>? Errors) Parse(HttpContext http)
    {
        var caller = http.Caller();
        var bad = new BadParameters(http.Request.Query.Keys);
        var tenant = caller.TenantId;
        foreach (var (name, values) in http.Request.Query)
        {
            if (name != RunTenant.Parameter) bad.Add(name, "is not a parameter here; the only one is tenant (super admins)");
            else if (!caller.IsSuperAdmin) bad.Add(name, "is for super admins only; your key sees its own tenant");
            else if (values.Count != 1 || RunFilter.TenantId(values.ToString()) is not { } named)
                bad.Add(name, $"accepts one tenant id: {RunFilter.TenantText}");
            else tenant = named;
        }
        return bad.All is { } errors ? (null, errors) : (tenant, null);
    }
}
