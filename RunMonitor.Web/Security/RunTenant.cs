using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Security;

/// Which tenant a route's run id is looked up in. Run ids belong to their tenant, so the same id may be a run of
/// two tenants: a tenant's caller always means its own; a super admin may name one with `?tenant=`, and without it
/// the id is looked for in every tenant (an id held by several is answered 409, asking for `?tenant=`).
public static class RunTenant
{
    public const string Parameter = "tenant";

    /// The tenant to look the route's run up in (as stored: `?tenant=Acme` is acme); null for a super admin who named none (any tenant).
    public static string? Of(HttpContext http)
    {
        var caller = http.Caller();
        if (!caller.IsSuperAdmin) return caller.TenantId;
        var named = http.Request.Query[Parameter].ToString();
        return named.Length > 0 ? RunFilter.TenantId(named) ?? named : null;
    }

    /// The run's tenant for a link to it, when needed: the viewer is a super admin and the id is held by several
    /// tenants (`idShared`), or this request named a tenant already; null otherwise, so the route value drops out.
    public static string? ForLink(HttpContext http, string runTenant, bool idShared = false) =>
        http.Caller().IsSuperAdmin && (idShared || http.Request.Query.ContainsKey(Parameter)) ? runTenant : null;

    /// `?tenant=…` to append to a hand-written run URL when needed (as ForLink), or "".
    public static string QueryFor(HttpContext http, string runTenant, bool idShared = false) =>
        ForLink(http, runTenant, idShared) is { } tenant ? QueryString.Create(Parameter, tenant).ToString() : "";
}

/// On every route naming a run (`{id}`): `?tenant=` must be a tenant id and is for super admins only (400 naming it,
/// and with it the parameters `AcceptedQueryGuard` would refuse next, so one answer names them all);
/// a lookup that found the id in several tenants (AmbiguousRunIdException) becomes a 409 naming them. Both answer
/// as the route does: problem+json under /api, the UI's error fragment elsewhere.
public sealed class RunTenantGuard(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.RouteValues.ContainsKey("id") && context.Request.Query.TryGetValue(RunTenant.Parameter, out var named))
        {
            var problem = !context.Caller().IsSuperAdmin ? "is for super admins only; your key sees its own tenant's runs"
                : named.Count != 1 || RunFilter.TenantId(named.ToString()) is null ? $"accepts one tenant id: {RunFilter.TenantText}"
                : null;
            if (problem is not null)
            {
                var refusals = AcceptedQueryGuard.QueryRefusals(context) ?? [];
                await StorableText.RefuseAsync(context, BadParameter.InOrder(context.Request.Query.Keys,
                    refusals.Prepend(new BadParameter(RunTenant.Parameter, problem)))!);
                return;
            }
        }
        try
        {
            await next(context);
        }
        catch (AmbiguousRunIdException e) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            await Refusal.WriteAsync(context, StatusCodes.Status409Conflict, "Ambiguous run id",
                $"run id '{e.Id}' names runs of tenants {string.Join(", ", e.Tenants)}: add ?tenant=<one of them>");
        }
    }
}
