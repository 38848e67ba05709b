using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// A page's write handler can need more than its page: `[HandlerPolicy(...)]` is enforced per handler.
public sealed class HandlerPolicyFilterTests
{
    private sealed class SamplePage
    {
        [HandlerPolicy(Policies.RequireOperator)]
        public void OnPostRetry() { }

        public void OnGet() { }
    }

    private static async Task<(bool Ran, IActionResult? Result)> RunAsync(string handler, string role)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddAuthorizationBuilder().AddRunMonitorPolicies();
        var provider = services.BuildServiceProvider();
        var http = new DefaultHttpContext
        {
            RequestServices = provider,
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, role), new Claim(Caller.TenantClaim, "acme")], "test")),
        };
        var pageContext = new PageContext(new ActionContext(http, new RouteData(), new CompiledPageActionDescriptor()));
        var method = new HandlerMethodDescriptor { MethodInfo = typeof(SamplePage).GetMethod(handler)!, HttpMethod = "POST", Parameters = [] };
        var context = new PageHandlerExecutingContext(pageContext, [], method, new Dictionary<string, object?>(), new SamplePage());
        var filter = new HandlerPolicyFilter(provider.GetRequiredService<IAuthorizationService>());
        var ran = false;
        await filter.OnPageHandlerExecutionAsync(context, () =>
        {
            ran = true;
            return Task.FromResult(new PageHandlerExecutedContext(pageContext, [], method, new SamplePage()));
        });
        return (ran, context.Result);
    }

    [Fact]
    public async Task Handler_WithPolicy_ViewerIsForbidden()
    {
        var (ran, result) = await RunAsync(nameof(SamplePage.OnPostRetry), Roles.Viewer);

        Assert.False(ran);
        Assert.IsType<ForbidResult>(result);
    }

    [Fact]
    public async Task Handler_WithPolicy_OperatorRuns()
    {
        var (ran, result) = await RunAsync(nameof(SamplePage.OnPostRetry), Roles.Operator);

        Assert.True(ran);
        Assert.Null(result);
    }

    [Fact]
    public async Task Handler_WithoutPolicy_Runs()
    {
        Assert.True((await RunAsync(nameof(SamplePage.OnGet), Roles.Viewer)).Ran);
    }
}
