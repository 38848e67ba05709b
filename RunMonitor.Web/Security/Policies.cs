using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.Filters;

namespace RunMonitor.Web.Security;

/// The named authorization policies endpoints attach (`.RequireAuthorization(Policies.RequireOperator)`,
/// `[Authorize(Policy = Policies.RequireAdmin)]`). Every endpoint names one; the fallback policy (any
/// signed-in caller) only backs that up. Tenant scoping is not a policy: it flows from `Caller.TenantId`
/// into every store query, and another tenant's run answers 404.
public static class Policies
{
    /// Any signed-in caller: viewer, operator, ingest or admin, each within its tenant.
    public const string RequireRead = "RequireRead";
    /// Retry and cancel: operator or admin.
    public const string RequireOperator = "RequireOperator";
    /// The engine API (create/update runs, steps, artifacts, claim): ingest or admin.
    public const string RequireIngest = "RequireIngest";
    /// Every tenant and the admin views: an admin key without a tenant (a super admin).
    public const string RequireAdmin = "RequireAdmin";

    public static readonly IReadOnlyList<string> All = [RequireRead, RequireOperator, RequireIngest, RequireAdmin];

    /// Which roles each policy lets in (RequireAdmin also needs no tenant).
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> RolesFor = new Dictionary<string, IReadOnlyList<string>>
    {
        [RequireRead] = [Roles.Viewer, Roles.Operator, Roles.Ingest, Roles.Admin],
        [RequireOperator] = [Roles.Operator, Roles.Admin],
        [RequireIngest] = [Roles.Ingest, Roles.Admin],
        [RequireAdmin] = [Roles.Admin],
    };

    public static bool Allows(string policy, Caller caller) =>
        RolesFor[policy].Contains(caller.Role) && (policy != RequireAdmin || caller.IsSuperAdmin);

    public static AuthorizationBuilder AddRunMonitorPolicies(this AuthorizationBuilder builder)
    {
        foreach (var policy in All)
            builder.AddPolicy(policy, p => p.RequireAuthenticatedUser().RequireAssertion(c => Allows(policy, Caller.From(c.User))));
        return builder.SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
    }
}

/// Razor Pages authorize whole pages, not handlers: put this on a handler (`OnPostRetryAsync`) that
/// needs more than its page's policy. `HandlerPolicyFilter` enforces it for every page.
[AttributeUsage(AttributeTargets.Method)]
public sealed class HandlerPolicyAttribute(string policy) : Attribute
{
    public string Policy { get; } = policy;
}

public sealed class HandlerPolicyFilter(IAuthorizationService authorization) : IAsyncPageFilter
{
    // A handler's attribute never changes: read by reflection once per handler, not on every request.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MethodInfo, HandlerPolicyAttribute?> Required = new();

    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (context.HandlerMethod?.MethodInfo is { } method
            && Required.GetOrAdd(method, static m => m.GetCustomAttribute<HandlerPolicyAttribute>()) is { } required)
        {
            var result = await authorization.AuthorizeAsync(context.HttpContext.User, required.Policy);
            if (!result.Succeeded)
            {
                context.Result = new Microsoft.AspNetCore.Mvc.ForbidResult();
                return;
            }
        }
        await next();
    }
}
