using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace RunMonitor.Web.Security;

/// The built-in antiforgery, except that a browser gets one request token per antiforgery cookie and user, not a new
/// one on every page. Each new token cost a decryption of the cookie and an encryption of the token (Data Protection):
/// about a twentieth of a run page's CPU (docs/PERFORMANCE.md). The token kept for a cookie is the one the built-in
/// service made for it, so validation is unchanged: a token is bound to its cookie and user, and a page from the same
/// browser could hand the same pair out again anyway. A token is kept for at most ten minutes, only when the cookie
/// the request brought was valid (or has just been issued), and is forgotten at once when a request carrying that
/// cookie fails validation (a key ring that lost the token's key must not be served from here until it expires).
public sealed class KeptAntiforgery(IAntiforgery inner, IOptions<AntiforgeryOptions> options, TimeProvider time) : IAntiforgery
{
    /// More browsers than this within ten minutes (or a client that keeps no cookies) empty the store and start it again.
    public const int MaxKept = 1_000;
    public static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, Kept> _kept = new(StringComparer.Ordinal);
    private sealed record Kept(string RequestToken, DateTimeOffset Until);

    public AntiforgeryTokenSet GetAndStoreTokens(HttpContext httpContext)
    {
        var o = options.Value;
        var cookie = httpContext.Request.Cookies[o.Cookie.Name!];
        // The built-in service throws for a plain-HTTP request when the cookie must be secure; it keeps that answer.
        if (cookie is not null && o.Cookie.SecurePolicy != CookieSecurePolicy.Always
            && _kept.TryGetValue(Key(cookie, httpContext.User), out var kept) && kept.Until > time.GetUtcNow())
        {
            // What the built-in service does for a valid cookie: no cookie to set, and a page holding a token is never cached.
            if (!httpContext.Response.HasStarted)
            {
                httpContext.Response.Headers.CacheControl = "no-cache, no-store";
                httpContext.Response.Headers.Pragma = "no-cache";
            }
            return new AntiforgeryTokenSet(kept.RequestToken, null, o.FormFieldName, o.HeaderName);
        }
        var tokens = inner.GetAndStoreTokens(httpContext);
        // A new cookie (none came, or the one that came did not hold) is in the set; a valid one that came is not.
        if ((tokens.CookieToken ?? cookie) is { } valid && tokens.RequestToken is { } token)
        {
            if (_kept.Count >= MaxKept) _kept.Clear();
            _kept[Key(valid, httpContext.User)] = new Kept(token, time.GetUtcNow() + KeptFor);
        }
        return tokens;
    }

    public AntiforgeryTokenSet GetTokens(HttpContext httpContext) => inner.GetTokens(httpContext);

    public async Task<bool> IsRequestValidAsync(HttpContext httpContext)
    {
        var valid = await inner.IsRequestValidAsync(httpContext);
        if (!valid) Forget(httpContext);
        return valid;
    }

    public async Task ValidateRequestAsync(HttpContext httpContext)
    {
        try
        {
            await inner.ValidateRequestAsync(httpContext);
        }
        catch (AntiforgeryValidationException)
        {
            Forget(httpContext);
            throw;
        }
    }

    public void SetCookieTokenAndHeader(HttpContext httpContext) => inner.SetCookieTokenAndHeader(httpContext);

    private void Forget(HttpContext httpContext)
    {
        if (httpContext.Request.Cookies[options.Value.Cookie.Name!] is { } cookie) _kept.TryRemove(Key(cookie, httpContext.User), out _);
    }

    // A token carries its user (a hash of the claims, or the name): the key holds every claim of every signed-in
    // identity, so a token is never handed to another user, nor to the same user signed in anew with other claims.
    // Each part is written with its length first, so no two users' parts can spell the same key.
    internal static string Key(string cookie, ClaimsPrincipal user)
    {
        var key = new StringBuilder(256);
        Part(key, cookie);
        foreach (var identity in user.Identities)
        {
            if (!identity.IsAuthenticated) continue;
            Part(key, identity.AuthenticationType);
            Part(key, identity.Name);
            foreach (var claim in identity.Claims)
            {
                Part(key, claim.Type);
                Part(key, claim.Value);
                Part(key, claim.Issuer);
            }
        }
        return key.ToString();
    }

    private static void Part(StringBuilder key, string? part) => key.Append(part?.Length ?? -1).Append(':').Append(part);
}
