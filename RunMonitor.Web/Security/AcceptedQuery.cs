using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Security;

/// The names a route reads from one part of its request, for routes that read few or none (SPEC: a parameter is
/// "never silently ignored"). On a Razor Page's model, once per handler (`Handler`) or for all of them; on a minimal-API
/// endpoint as metadata (`.AcceptsQuery(...)`, `.AcceptsForm(...)`).
public abstract class AcceptedNamesAttribute(string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;

    /// The page handler these are for ("live"); null: every handler of the page without one of its own.
    public string? Handler { get; init; }

    /// The names that may be given more than once (a form's ticked boxes); any other is refused when repeated.
    public string[] Repeatable { get; init; } = [];

    public abstract string Rule { get; }
}

/// The query parameters a route reads. Routes whose parser reads a list of parameters (the runs list, the logs, the
/// stats) name the unknown ones themselves.
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class AcceptsQueryAttribute(params string[] names) : AcceptedNamesAttribute(names)
{
    public override string Rule => Names.Count == 0
        ? "is not accepted; this route takes no query parameters"
        : $"is not accepted; this route takes only {string.Join(", ", Names)}"
          + (Names.Contains(RunTenant.Parameter) ? $" ({RunTenant.Parameter}: a super admin's)" : "");
}

/// The fields a UI form posts besides its antiforgery token: a cookie-signed state change reads nothing else.
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class AcceptsFormAttribute(params string[] names) : AcceptedNamesAttribute(names)
{
    public override string Rule => Names.Count == 0
        ? "is not accepted; this form sends no field but its antiforgery token"
        : $"is not accepted; this form sends only {string.Join(", ", Names)} and its antiforgery token";
}

public static class AcceptsQueryExtensions
{
    /// A minimal-API endpoint's `AcceptsQueryAttribute`: the query parameters it reads (none if `names` is empty).
    public static TBuilder AcceptsQuery<TBuilder>(this TBuilder builder, params string[] names) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AcceptsQueryAttribute(names));

    /// A minimal-API endpoint's `AcceptsFormAttribute`: the form fields it reads (none if `names` is empty).
    public static TBuilder AcceptsForm<TBuilder>(this TBuilder builder, params string[] names) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AcceptsFormAttribute(names));
}

/// Refuses a query parameter the endpoint's `AcceptsQueryAttribute` does not name, and a form field its
/// `AcceptsFormAttribute` does not, or either given twice: 400 naming every one, problem+json under /api, the UI's error
/// fragment elsewhere. A form route also refuses a body that is not a form (415) and a field sent as a file (400 naming
/// it). On a page, `handler` (which picks its handler) is the page filter's to check.
public sealed class AcceptedQueryGuard(RequestDelegate next, IOptions<AntiforgeryOptions> antiforgery)
{
    private const string HandlerParameter = "handler";

    private static readonly BadParameter NotAForm = new("body", "must be a form: application/x-www-form-urlencoded or multipart/form-data");

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is not { } endpoint)
        {
            await next(context);
            return;
        }
        // A form route given another body read no field from it and acted on its old values (a retry with the old input).
        if (IsBodyNotAForm(context.Request, endpoint))
        {
            await RefuseMediaTypeAsync(context);
            return;
        }
        if (await RefusalAsync(context, endpoint) is { } errors)
        {
            await StorableText.RefuseAsync(context, errors);
            return;
        }
        await next(context);
    }

    private static bool IsBodyNotAForm(HttpRequest request, Endpoint endpoint) =>
        !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !request.HasFormContentType
        && (request.ContentLength > 0 || request.ContentType is not null || request.Headers.TransferEncoding.Count > 0)
        && For<AcceptsFormAttribute>(endpoint, request) is not null;

    private static Task RefuseMediaTypeAsync(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api")
            ? Api.Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", $"{NotAForm.Name} {NotAForm.Message}").ExecuteAsync(context)
            : Pages.ErrorPages.WriteHtmlAsync(context, StatusCodes.Status415UnsupportedMediaType, Pages.Fragments.BadParameterHtml(NotAForm));

    /// The query parameters the request's endpoint does not read, or repeats, in the query's order; null when none
    /// (or the endpoint declares none: its parser names them).
    public static IReadOnlyList<BadParameter>? QueryRefusals(HttpContext context)
    {
        var request = context.Request;
        if (request.Query.Count == 0 || context.GetEndpoint() is not { } endpoint || For<AcceptsQueryAttribute>(endpoint, request) is not { } query)
            return null;
        var page = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.PageActionDescriptor>() is not null;
        return Refusals(request.Query, query, page ? HandlerParameter : null);
    }

    private async Task<IReadOnlyList<BadParameter>?> RefusalAsync(HttpContext context, Endpoint endpoint)
    {
        var request = context.Request;
        if (QueryRefusals(context) is { } errors) return errors;
        if (!request.HasFormContentType || For<AcceptsFormAttribute>(endpoint, request) is not { } form) return null;
        IFormCollection fields;
        try
        {
            fields = await request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            // Answered where the form is read (`PageRequestFilter`, the endpoint): every later read fails the same way.
            return null;
        }
        // A file part is not among a form's fields: its value would be read as not sent.
        if (fields.Files.Count > 0)
            return fields.Files.Select(f => new BadParameter(f.Name, "is sent as a file; this form sends text fields only")).ToList();
        return Refusals(fields, form, antiforgery.Value.FormFieldName);
    }

    private static IReadOnlyList<BadParameter>? Refusals(IEnumerable<KeyValuePair<string, StringValues>> given, AcceptedNamesAttribute accepted, string? alwaysAccepted)
    {
        var names = new List<string>();
        var refused = new List<BadParameter>();
        foreach (var (key, values) in given)
        {
            names.Add(key);
            if (alwaysAccepted is not null && key.Equals(alwaysAccepted, StringComparison.OrdinalIgnoreCase)) continue;
            if (!accepted.Names.Contains(key, StringComparer.OrdinalIgnoreCase)) refused.Add(new BadParameter(key, accepted.Rule));
            else if (values.Count > 1 && !accepted.Repeatable.Contains(key, StringComparer.OrdinalIgnoreCase))
                refused.Add(new BadParameter(key, "was given more than once; give it once"));
        }
        return BadParameter.InOrder(names, refused);
    }

    private static T? For<T>(Endpoint endpoint, HttpRequest request) where T : AcceptedNamesAttribute
    {
        var all = endpoint.Metadata.GetOrderedMetadata<T>();
        if (all.Count == 0) return null;
        var handler = request.RouteValues[HandlerParameter] as string ?? request.Query[HandlerParameter].ToString();
        return all.FirstOrDefault(a => a.Handler is not null && a.Handler.Equals(handler, StringComparison.OrdinalIgnoreCase))
            ?? all.FirstOrDefault(a => a.Handler is null);
    }
}
