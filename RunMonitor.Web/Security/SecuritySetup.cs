using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace RunMonitor.Web.Security;

/// Keys, sign-in, policies and antiforgery, composed in one place for Program.cs.
public static class SecuritySetup
{
    public static IServiceCollection AddRunMonitorSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton(new TrustedHosts(configuration));
        services.AddRunMonitorRateLimits(configuration);
        services.AddHsts(o => o.MaxAge = TimeSpan.FromDays(365));
        services.AddAntiforgery(o =>
        {
            o.HeaderName = "RequestVerificationToken";
            // Secure whenever the page came over HTTPS (directly, or from a proxy KnownProxies trusts).
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        // The built-in service behind KeptAntiforgery: one request token per cookie and user, not one per page.
        var builtIn = services.Last(d => d.ServiceType == typeof(IAntiforgery));
        services.Remove(builtIn);
        services.AddSingleton<IAntiforgery>(sp => new KeptAntiforgery((IAntiforgery)ActivatorUtilities.CreateInstance(sp, builtIn.ImplementationType!),
            sp.GetRequiredService<IOptions<AntiforgeryOptions>>(), sp.GetRequiredService<TimeProvider>()));
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

    /// The front of the pipeline: the proxy's headers when one is trusted, then HSTS (sent over HTTPS only).
    public static IApplicationBuilder UseRunMonitorTransport(this IApplicationBuilder app, IConfiguration configuration)
    {
        app.UseRunMonitorForwardedHeaders(configuration);
        return app.UseHsts();
    }

    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.Logout, async (HttpContext http) =>
        {
            await http.SignOutAsync(RunMonitorAuthenticationHandler.CookieScheme);
            return Results.Redirect(RunMonitorAuthenticationHandler.LoginPath);
        }).RequireAuthorization(Policies.RequireRead).AcceptsQuery().AcceptsForm();
        return app;
    }
}
