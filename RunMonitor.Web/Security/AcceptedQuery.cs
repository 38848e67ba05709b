using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Security;

/// The query parameters a route reads, for routes that read few or none (SPEC: a parameter is "never silently
/// ignored"). On a Razor Page's model, once per handler (`Handler`) or for all of them; on a minimal-API endpoint
/// as metadata (`.WithMetadata(new AcceptsQueryAttribute(...))`). Routes whose parser reads a list of parameters
/// (the runs list, the logs, the stats) name the unknown ones themselves.
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class AcceptsQueryAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;

    /// The page handler these are for ("live"); null: every handler of the page without one of its own.
    public string? Handler { get; init; }

    public string Rule => Names.Count == 0
        ? "is not accepted; this route takes no query parameters"
        : $"is not accepted; this route takes only {string.Join(", ", Names)}"
          + (Names.Contains(RunTenant.Parameter) ? $" ({RunTenant.Parameter}: a super admin's)" : "");
}

public static class AcceptsQueryExtensions
{
    /// A minimal-API endpoint's `AcceptsQueryAttribute`: the query parameters it reads (none if `names` is empty).
    public static TBuilder AcceptsQuery<TBuilder>(this TBuilder builder, params string[] names) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AcceptsQueryAttribute(names));
}

/// Refuses a query parameter the endpoint's `AcceptsQueryAttribute` does not name: 400 naming it, problem+json under
/// /api, the UI's error fragment elsewhere. On a page, `handler` (which picks its handler) is the page filter's to check.
public sealed class AcceptedQueryGuard(RequestDelegate next)
{
    private const string HandlerParameter = "handler";

    public Task InvokeAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (query.Count == 0 || context.GetEndpoint() is not { } endpoint || For(endpoint, context.Request) is not { } accepted) return next(context);
        var page = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.PageActionDescriptor>() is not null;
        foreach (var key in query.Keys)
        {
            if ((page && key.Equals(HandlerParameter, StringComparison.OrdinalIgnoreCase)) || accepted.Names.Contains(key, StringComparer.OrdinalIgnoreCase)) continue;
            return StorableText.RefuseAsync(context, new BadParameter(key, accepted.Rule));
        }
        return next(context);
    }

    private static AcceptsQueryAttribute? For(Endpoint endpoint, HttpRequest request)
    {
        var all = endpoint.Metadata.GetOrderedMetadata<AcceptsQueryAttribute>();
        if (all.Count == 0) return null;
        var handler = request.RouteValues[HandlerParameter] as string ?? request.Query[HandlerParameter].ToString();
        return all.FirstOrDefault(a => a.Handler is not null && a.Handler.Equals(handler, StringComparison.OrdinalIgnoreCase))
            ?? all.FirstOrDefault(a => a.Handler is null);
    }
}
