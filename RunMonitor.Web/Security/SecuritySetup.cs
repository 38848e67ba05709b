using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace RunMonitor.Web.Security;

/// Keys, sign-in, policies and antiforgery, composed in one place for Program.cs.
public static class SecuritySetup
{
    public static IServiceCollection AddRunMonitorSecurity(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddAntiforgery(o => o.HeaderName = "RequestVerificationToken");
        services.AddAuthentication(RunMonitorAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, RunMonitorAuthenticationHandler>(RunMonitorAuthenticationHandler.SchemeName, null)
            .AddCookie(RunMonitorAuthenticationHandler.CookieScheme, RunMonitorAuthenticationHandler.ConfigureCookie);
        services.AddAuthorizationBuilder().AddRunMonitorPolicies();
        services.Configure<RazorPagesOptions>(o =>
        {
            // Every page names its policy; pages needing more say so with [Authorize(Policy = …)].
            o.Conventions.AuthorizeFolder("/", Policies.RequireRead);
            // AntiforgeryGuard validates every unsafe request (bearer-exempt); the pages' own check would refuse bearer POSTs.
            o.Conventions.ConfigureFilter(new IgnoreAntiforgeryTokenAttribute());
        });
        services.Configure<MvcOptions>(o => o.Filters.Add<HandlerPolicyFilter>());
        return services;
    }

    /// Validates configured keys at start-up, so a bad `RunMonitor:ApiKeys` entry stops the app with its name.
    public static void ValidateApiKeys(this IServiceProvider services) => services.GetRequiredService<ApiKeyStore>();

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(RunMonitorAuthenticationHandler.CookieScheme);
            return Results.Redirect(RunMonitorAuthenticationHandler.LoginPath);
        }).RequireAuthorization(Policies.RequireRead);
        return app;
    }
}
