using RunMonitor.Web.Api;
using RunMonitor.Web.Pages;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Security;

/// Text neither store can keep never reaches one: a NUL character (PostgreSQL's text refuses it) or an unpaired
/// UTF-16 surrogate (no UTF-8 encoding exists for it). Route values and query strings are checked here, once,
/// for every endpoint; JSON bodies by `JsonBody.FindInvalidText`. The answer is a 400 naming the parameter:
/// problem+json under /api, the UI's error fragment elsewhere.
public sealed class StorableText(RequestDelegate next)
{
    public const string Rule = "holds text no store can keep: a NUL character or an unpaired surrogate (such as \\ud800)";

    public Task InvokeAsync(HttpContext context)
    {
        foreach (var (key, value) in context.Request.RouteValues)
            if (value is string text && !IsStorable(text)) return RefuseAsync(context, key);
        foreach (var (key, values) in context.Request.Query)
        {
            if (!IsStorable(key)) return RefuseAsync(context, "query");
            foreach (var value in values)
                if (value is not null && !IsStorable(value)) return RefuseAsync(context, key);
        }
        return next(context);
    }

    public static bool IsStorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') return false;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return false;
        }
        return true;
    }

    private static Task RefuseAsync(HttpContext context, string parameter) => RefuseAsync(context, new BadParameter(parameter, Rule));

    /// A 400 naming a request parameter: problem+json under /api, the UI's error fragment elsewhere.
    public static Task RefuseAsync(HttpContext context, BadParameter error) => RefuseAsync(context, [error]);

    /// A 400 naming every bad parameter of a request, as `RefuseAsync` names one.
    public static Task RefuseAsync(HttpContext context, IReadOnlyList<BadParameter> errors)
    {
        if (context.Request.Path.StartsWithSegments("/api"))
            return Problems.BadParameters(errors).ExecuteAsync(context);
        return ErrorPages.WriteHtmlAsync(context, StatusCodes.Status400BadRequest, Fragments.BadParametersHtml(errors));
    }
}
