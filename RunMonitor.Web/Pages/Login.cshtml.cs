using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages;

/// `/login`: a person pastes an API key and gets the sign-in cookie.
[AllowAnonymous]
[AcceptsQuery("returnUrl")]
[AcceptsForm("key", "returnUrl")]
[EnableRateLimiting(RateLimits.SignInPolicy)]
public sealed class LoginModel(ApiKeyStore keys, FailedKeyChecks failedKeyChecks) : PageModel
{
    public string? Error { get; private set; }
    public bool KeysExist { get; private set; }
    public string ReturnUrl { get; private set; } = Routes.Runs;

    public async Task OnGetAsync(string? returnUrl, CancellationToken ct)
    {
        ReturnUrl = SafeReturnUrl(returnUrl);
        KeysExist = await keys.AnyAsync(ct);
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? key, [FromForm] string? returnUrl, CancellationToken ct)
    {
        ReturnUrl = SafeReturnUrl(returnUrl);
        KeysExist = await keys.AnyAsync(ct);
        if (failedKeyChecks.IsBlocked(HttpContext))
        {
            await FailedKeyChecks.WriteRefusalAsync(HttpContext);
            return new EmptyResult();
        }
        var found = string.IsNullOrWhiteSpace(key) ? null : await keys.FindAsync(key.Trim(), ct);
        if (found is null)
        {
            if (!string.IsNullOrWhiteSpace(key)) failedKeyChecks.RecordFailure(HttpContext);
            Error = string.IsNullOrWhiteSpace(key) ? "Paste an API key." : "That key is not valid (unknown or revoked).";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        await HttpContext.SignInAsync(RunMonitorAuthenticationHandler.CookieScheme,
            SignedInWith.Principal(found, SignedInWith.Cookie, RunMonitorAuthenticationHandler.CookieScheme));
        return LocalRedirect(ReturnUrl);
    }

    // Only a path on this site: never an open redirect.
    private string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && Url.IsLocalUrl(returnUrl) && !returnUrl.StartsWith(Routes.Login, StringComparison.OrdinalIgnoreCase)
            ? returnUrl : Routes.Runs;
}
