namespace RunMonitor.Web.Security;

/// Headers on every answer: scripts only from the app itself (no inline script), no framing, no sniffing.
/// Styles from the app, and the one inline sheet of the page head by its hash (Wire/InlineStyle).
public sealed class SecurityHeaders(RequestDelegate next, Wire.InlineStyle style)
{
    public static string ContentSecurityPolicy(string styleHash) =>
        $"default-src 'self'; script-src 'self'; style-src 'self' {styleHash}; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    private readonly string _policy = ContentSecurityPolicy(style.Hash);

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = _policy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        return next(context);
    }
}
