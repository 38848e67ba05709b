using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Htmx;
using RunMonitor.Web.Pages;

namespace RunMonitor.Web.Security;

/// How the caller proved who they are; decides whether antiforgery applies.
public static class SignedInWith
{
    public const string Claim = "runmonitor:via";
    public const string Bearer = "bearer";
    public const string Cookie = "cookie";
    public const string Loopback = "loopback";

    public static string? Of(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true ? user.FindFirstValue(Claim) : null;

    public static ClaimsPrincipal Principal(ApiKey key, string via, string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, key.Id), new(ClaimTypes.Name, key.Id),
            new(ClaimTypes.Role, key.Role), new(Claim, via),
        };
        if (key.TenantId is not null) claims.Add(new Claim(Caller.TenantClaim, key.TenantId));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }
}

/// The app's one authentication scheme. `Authorization: Bearer <key>` wins; else the sign-in cookie;
/// else, while no API key exists at all, a request from this machine is the super admin and any other
/// is refused (the Hangfire dashboard's default).
public sealed class RunMonitorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys,
    TrustedHosts trustedHosts, FailedKeyChecks failedKeyChecks)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "RunMonitor";
    public const string CookieScheme = "RunMonitor.Cookie";
    public const string LoginPath = Routes.Login;
    private const string UntrustedHostItem = "runmonitor:untrusted-host";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return AuthenticateResult.Fail("send the key as Authorization: Bearer <key>");
            if (failedKeyChecks.IsBlocked(Context)) return AuthenticateResult.Fail("too many keys that were not valid came from this address");
            var key = await keys.FindAsync(authorization["Bearer ".Length..].Trim(), Context.RequestAborted);
            if (key is not null) return Success(SignedInWith.Principal(key, SignedInWith.Bearer, SchemeName));
            failedKeyChecks.RecordFailure(Context);
            return AuthenticateResult.Fail("the API key is not valid (unknown or revoked)");
        }

        var cookie = await Context.AuthenticateAsync(CookieScheme);
        if (cookie.Succeeded) return Success(cookie.Principal!);

        var remote = Context.Connection.RemoteIpAddress;
        if (remote is not null && IPAddress.IsLoopback(remote) && !await keys.AnyAsync(Context.RequestAborted))
        {
            // DNS rebinding: a loopback request addressed to another name is a page elsewhere speaking through the browser.
            if (!trustedHosts.Admits(Request.Host))
            {
                Context.Items[UntrustedHostItem] = true;
                return AuthenticateResult.NoResult();
            }
            var identity = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, SignedInWith.Loopback), new Claim(ClaimTypes.Role, Roles.Admin), new Claim(SignedInWith.Claim, SignedInWith.Loopback)],
                SchemeName);
            return Success(new ClaimsPrincipal(identity));
        }
        return AuthenticateResult.NoResult();
    }

    private AuthenticateResult Success(ClaimsPrincipal principal) =>
        AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (FailedKeyChecks.WasBlocked(Context))
        {
            await FailedKeyChecks.WriteRefusalAsync(Context);
            return;
        }
        if (Context.Items.ContainsKey(UntrustedHostItem))
        {
            await Refusal.WriteAsync(Context, StatusCodes.Status403Forbidden, "Host not trusted", TrustedHosts.Refusal(Request.Host));
            return;
        }
        if (!await keys.AnyAsync(Context.RequestAborted))
        {
            await Refusal.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden",
                "RunMonitor answers only requests from this machine until API keys are configured (RunMonitor:ApiKeys, or the keys command).");
            return;
        }
        if (IsPageNavigation(Request))
        {
            Response.Redirect(LoginUrl(Request.PathBase + Request.Path + Request.QueryString));
            return;
        }
        var bearerProblem = Request.Headers.Authorization.Count > 0 ? "the API key is not valid (unknown or revoked)" : null;
        Response.Headers.WWWAuthenticate = bearerProblem is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        // htmx follows HX-Redirect (before it looks at the status): back to the page the person was on.
        if (Request.IsHtmx(out var htmx))
        {
            var login = Uri.TryCreate(htmx!.CurrentUrl, UriKind.Absolute, out var current) ? LoginUrl(current.PathAndQuery) : LoginPath;
            Response.Htmx(h => h.Redirect(login));
        }
        await Refusal.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Sign-in required",
            bearerProblem ?? "send Authorization: Bearer <key>, or sign in at /login");
    }

    /// An admin key is refused only what needs every tenant (`RequireAdmin`): its role is not what is wrong, its tenant is.
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Refusal.WriteAsync(Context, StatusCodes.Status403Forbidden, "Forbidden", Caller.From(Context.User) is { Role: Roles.Admin, TenantId: { } tenant }
            ? $"this is for super admins (an admin key of no tenant); your admin key belongs to tenant '{tenant}'"
            : "your key's role may not do this", otherKey: true);

    private static string LoginUrl(string returnUrl) => LoginPath + QueryString.Create("returnUrl", returnUrl);

    /// A browser opening a page (not the API, not an htmx or script request for a fragment).
    private static bool IsPageNavigation(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && !request.IsHtmx() && !request.Path.StartsWithSegments("/api")
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// The sign-in cookie: HttpOnly, SameSite=Strict, and re-checked against the key on every request,
    /// so revoking a key signs its browsers out.
    public static void ConfigureCookie(CookieAuthenticationOptions options)
    {
        options.Cookie.Name = "runmonitor.auth";
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.ExpireTimeSpan = TimeSpan.FromHours(12);
        options.SlidingExpiration = true;
        options.LoginPath = LoginPath;
        options.Events.OnValidatePrincipal = async context =>
        {
            var store = context.HttpContext.RequestServices.GetRequiredService<ApiKeyStore>();
            var id = context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
            var key = id is null ? null : await store.FindActiveByIdAsync(id, context.HttpContext.RequestAborted);
            var caller = context.Principal is null ? null : Caller.From(context.Principal);
            if (key is null || caller is null || key.Role != caller.Role || key.TenantId != caller.TenantId)
            {
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(CookieScheme);
            }
        };
    }
}

/// 401/403/400 answers in the form the caller reads: problem+json for /api, a `<p class="error">` fragment otherwise.
public static class Refusal
{
    /// `otherKey`: the refusal is of the caller's key (its role or tenant), so a page offers to sign in with another.
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, bool otherKey = false)
    {
        var response = context.Response;
        response.StatusCode = status;
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            await Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
            return;
        }
        // A person refused for their key's role or tenant may hold another key: the way to use it, back to where they were.
        var signIn = otherKey
            ? $" <a class=\"sign-in-other\" href=\"{WebUtility.HtmlEncode(Routes.Login + QueryString.Create("returnUrl", context.Request.Path + context.Request.QueryString))}\">Sign in with another key</a>"
            : "";
        await ErrorPages.WriteHtmlAsync(context, status,
            $"<p class=\"error\" role=\"alert\"><strong>{WebUtility.HtmlEncode(title)}:</strong> {WebUtility.HtmlEncode(detail.EndsWith('.') ? detail : detail + ".")}{signIn}</p>");
    }
}
