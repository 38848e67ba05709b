using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace RunMonitor.Web.Security;

/// Antiforgery for every state change a browser could be tricked into: POST, PUT, PATCH and DELETE
/// on any endpoint (pages, fragments, minimal-API JSON), which the built-in middleware does not cover
/// (it skips DELETE and endpoints that do not bind forms). A key sent as `Authorization: Bearer` is
/// exempt (a browser never adds it by itself), and so is a loopback call to the JSON API without a
/// browser's `Origin`/`Sec-Fetch-Site` headers (an engine or curl on this machine while no key exists);
/// a page handler (the browser UI) always needs the token.
/// The token travels as the `RequestVerificationToken` header (htmx, from `<body hx-headers>`) or
/// the `__RequestVerificationToken` form field.
public sealed class AntiforgeryGuard(RequestDelegate next, IAntiforgery antiforgery)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (NeedsToken(context) && !await IsValidAsync(context))
        {
            await Refusal.WriteAsync(context, StatusCodes.Status400BadRequest, "Antiforgery token missing or invalid",
                "reload the page and try again (a signed-in browser must send the RequestVerificationToken header or form field)");
            return;
        }
        await next(context);
    }

    // A body that claims to be a form but cannot be read as one (broken multipart, a key over the form
    // limits) throws rather than answering false: it holds no readable token either way.
    private async Task<bool> IsValidAsync(HttpContext context)
    {
        try
        {
            return await antiforgery.IsRequestValidAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            return false;
        }
    }

    public static bool NeedsToken(HttpContext context)
    {
        var method = context.Request.Method;
        if (!(HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method)))
            return false;
        return SignedInWith.Of(context.User) switch
        {
            SignedInWith.Bearer => false,
            SignedInWith.Loopback => FromBrowser(context.Request) || context.GetEndpoint()?.Metadata.GetMetadata<PageActionDescriptor>() is not null,
            _ => true,
        };
    }

    private static bool FromBrowser(HttpRequest request) =>
        request.Headers.Origin.Count > 0 || request.Headers["Sec-Fetch-Site"].Count > 0;
}
