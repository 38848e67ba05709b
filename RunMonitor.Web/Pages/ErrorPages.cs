using System.Net;
using Htmx;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using RunMonitor.Web.Pages.Shared;

namespace RunMonitor.Web.Pages;

/// The UI's errors written outside a page (a refused parameter, key or role, an ambiguous id, a path no route
/// matches): the `<p class="error">` fragment that htmx and scripts read, or, for a browser's own navigation to the
/// URL (a typed address, a followed link: `Sec-Fetch-Mode: navigate`), that fragment in a small page with a heading
/// and a way back, in the viewer's theme. Under /api every answer is problem+json instead.
public static class ErrorPages
{
    /// The top bar's logo: the layout's and the error page's.
    public const string BrandLogo = """<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path d="M3 12h4l2.5-6 4 12 2.5-6H21" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>""";

    public static bool IsNavigation(HttpRequest request) =>
        request.Headers["Sec-Fetch-Mode"] == "navigate" && !request.IsHtmx();

    /// `back`: where the page's way back goes (the runs list with the filter the person had); the runs list if null.
    public static Task WriteHtmlAsync(HttpContext context, int status, string fragment, string? back = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(IsNavigation(context.Request) ? Page(context.Request, status, fragment, back) : fragment);
    }

    /// A minimal-API endpoint's UI error: `WriteHtmlAsync` as its result.
    public static IResult Result(int status, string fragment, string? back = null) => new ErrorResult(status, fragment, back);

    private sealed class ErrorResult(int status, string fragment, string? back) : IResult
    {
        public Task ExecuteAsync(HttpContext context) => WriteHtmlAsync(context, status, fragment, back);
    }

    /// `UseStatusCodePages`: a status with no body yet (no route matched the path, the route lacks the method).
    public static async Task StatusCodeAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        if (http.Request.Path.StartsWithSegments("/api"))
        {
            var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
            await problems.WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = status } });
            return;
        }
        var what = status == StatusCodes.Status404NotFound ? "Not found: nothing is at this address" : ReasonPhrases.GetReasonPhrase(status);
        await WriteHtmlAsync(http, status, $"<p class=\"error\" role=\"alert\">{WebUtility.HtmlEncode(what)}</p>");
    }

    /// `fragment` in a page of its own: a heading naming the status, the fragment, a link back to the runs (`back`, a
    /// path of this app, when the runs the person came from are known).
    public static string Page(HttpRequest request, int status, string fragment, string? back = null)
    {
        var heading = WebUtility.HtmlEncode($"{status} {ReasonPhrases.GetReasonPhrase(status)}");
        var backHref = WebUtility.HtmlEncode(back ?? Routes.Runs);
        var theme = WebUtility.HtmlEncode(Preferences.Of(request).Theme);
        return $"""
            <!DOCTYPE html>
            <html lang="en" data-theme="{theme}">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark">
            <meta name="robots" content="noindex"><title>{heading} — RunMonitor</title><link rel="stylesheet" href="/css/site.css"></head>
            <body><header class="topbar"><a class="brand" href="{Routes.Runs}">{BrandLogo}<span>RunMonitor</span></a></header>
            <main class="container error-page"><h1>{heading}</h1>{fragment}<p><a href="{backHref}">Back to the runs</a></p></main></body>
            </html>
            """;
    }
}
