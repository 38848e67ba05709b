using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages;

/// Razor Pages renders a page even when no handler matches the request (a PATCH, an unknown
/// `?handler=`), skipping the handler that loads its model. Such a request is refused instead:
/// 405 with `Allow` when the page has no handler for the method, else 400 naming `handler`.
public sealed class HandlerRequiredFilter : IPageFilter
{
    public void OnPageHandlerSelected(PageHandlerSelectedContext context) { }

    public void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        var handlers = context.ActionDescriptor.HandlerMethods;
        if (context.HandlerMethod is not null || handlers.Count == 0) return;
        var method = HttpMethods.IsHead(context.HttpContext.Request.Method) ? HttpMethods.Get : context.HttpContext.Request.Method;
        var forMethod = handlers.Where(h => string.Equals(h.HttpMethod, method, StringComparison.OrdinalIgnoreCase)).ToList();
        if (forMethod.Count == 0)
        {
            context.HttpContext.Response.Headers.Allow = string.Join(", ", handlers.Select(h => h.HttpMethod.ToUpperInvariant()).Distinct().Order());
            context.Result = Fragments.Html(StatusCodes.Status405MethodNotAllowed, "<p class=\"error\" role=\"alert\">Method not allowed</p>");
            return;
        }
        var names = forMethod.Select(h => h.Name).Where(n => n is not null).Select(n => n!.ToLowerInvariant()).Order().ToList();
        context.Result = Fragments.BadParameter(new BadParameter("handler",
            names.Count == 0 ? "is not accepted here" : $"accepts {string.Join(", ", names)}"));
    }

    public void OnPageHandlerExecuted(PageHandlerExecutedContext context) { }
}
