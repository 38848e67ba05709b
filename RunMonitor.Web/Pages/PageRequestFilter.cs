using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages;

/// Refuses a page request Razor Pages would otherwise run half-bound:
/// - no handler matches (a PATCH, an unknown `?handler=`): Razor Pages renders the page anyway without the
///   handler that loads its model; answered 405 with `Allow` when the page has no handler for the method,
///   else 400 naming `handler`;
/// - the form body cannot be read (over the size limit, broken multipart): Razor Pages would bind no parameter
///   at all, route values included, and the handler look up a null id; answered 413, or 400 naming the body.
/// And an error fragment a page answers (a refused parameter, a run not found) goes to a browser's own navigation in
/// a page around it (`ErrorPages`): htmx and scripts still read the fragment alone.
public sealed class PageRequestFilter : IPageFilter, IAsyncResourceFilter, IResultFilter
{
    /// Reads the form before binding does: binding swallows the failure and binds nothing.
    public async Task OnResourceExecutionAsync(ResourceExecutingContext context, ResourceExecutionDelegate next)
    {
        var request = context.HttpContext.Request;
        if (request.HasFormContentType)
        {
            try
            {
                await request.ReadFormAsync(context.HttpContext.RequestAborted);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                context.Result = Fragments.Html(e.StatusCode, $"<p class=\"error\" role=\"alert\">{System.Net.WebUtility.HtmlEncode(e.Message)}</p>");
                return;
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                context.Result = Fragments.BadParameter(new BadParameter("body",
                    "could not be read as a form (send application/x-www-form-urlencoded or well-formed multipart/form-data)"));
                return;
            }
        }
        await next();
    }

    public void OnPageHandlerSelected(PageHandlerSelectedContext context) { }

    public void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        if (context.HandlerMethod is null) context.Result = NoHandler(context);
    }

    public void OnPageHandlerExecuted(PageHandlerExecutedContext context) { }

    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is ContentResult { StatusCode: >= 400 and var status, Content: { } fragment } result
            && result.ContentType?.StartsWith("text/html", StringComparison.Ordinal) == true
            && ErrorPages.IsNavigation(context.HttpContext.Request))
        {
            result.Content = ErrorPages.Page(context.HttpContext.Request, status, fragment);
        }
    }

    public void OnResultExecuted(ResultExecutedContext context) { }

    private static IActionResult? NoHandler(PageHandlerExecutingContext context)
    {
        var handlers = context.ActionDescriptor.HandlerMethods;
        if (handlers.Count == 0) return null;
        var method = HttpMethods.IsHead(context.HttpContext.Request.Method) ? HttpMethods.Get : context.HttpContext.Request.Method;
        var forMethod = handlers.Where(h => string.Equals(h.HttpMethod, method, StringComparison.OrdinalIgnoreCase)).ToList();
        if (forMethod.Count == 0) return MethodNotAllowed(context, handlers);
        // A handler the page has for other methods only (`GET …/retry`, whose form posts): the method is what is wrong.
        var asked = context.RouteData.Values["handler"]?.ToString() ?? context.HttpContext.Request.Query["handler"].FirstOrDefault();
        var named = handlers.Where(h => asked is not null && string.Equals(h.Name, asked, StringComparison.OrdinalIgnoreCase)).ToList();
        if (named.Count > 0) return MethodNotAllowed(context, named);
        var names = forMethod.Select(h => h.Name).Where(n => n is not null).Select(n => n!.ToLowerInvariant()).Order().ToList();
        return Fragments.BadParameter(new BadParameter("handler", names.Count == 0 ? "is not accepted here" : $"accepts {string.Join(", ", names)}"));
    }

    /// 405 with `Allow`: the methods of the handlers that would answer.
    private static IActionResult MethodNotAllowed(PageHandlerExecutingContext context, IEnumerable<Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure.HandlerMethodDescriptor> handlers)
    {
        context.HttpContext.Response.Headers.Allow = string.Join(", ", handlers.Select(h => h.HttpMethod.ToUpperInvariant()).Distinct().Order());
        return Fragments.Html(StatusCodes.Status405MethodNotAllowed, "<p class=\"error\" role=\"alert\">Method not allowed</p>");
    }
}
