using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Web;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// The route table of the source (`Routes.All`: every method of every URL of SPEC), each row with the policies the
/// app enforces on it, read from its endpoint. `RoutesTests` holds the app to serving exactly that table, so a suite
/// walking it checks a route added later as soon as it is named there.
public static class RouteTable
{
    private static readonly string[] UnsafeMethods = ["POST", "PUT", "PATCH", "DELETE"];

    /// One method of one route, with every policy it must pass (endpoint, group, page, handler).
    public sealed record Route(RoutePattern Pattern, string Method, string? Handler, IReadOnlyList<string> Policies, bool AllowAnonymous)
    {
        // Page routes come without the leading slash ("login"), minimal-API routes with it.
        public string Path => "/" + (Pattern.RawText ?? "").Trim('/');
        public string Key => $"{Method} {Path}";
        public string Display => Key + (Handler is null ? "" : $" (handler {Handler})");
        public bool IsUnsafe => UnsafeMethods.Contains(Method);
        /// The route names one tenant's thing: a run (or its step), an artifact or a bulk operation.
        public bool HasRunId => Pattern.Parameters.Any(p => p.Name is "id" or "runId" or "artifactId" or "operationId");
        public bool IsAdminRoute => Path == "/admin" || Path.StartsWith("/admin/", StringComparison.Ordinal) || Path.StartsWith("/api/admin/", StringComparison.Ordinal);
    }

    /// `Routes.All`, each row with what its endpoint enforces. A row the app does not serve fails here.
    public static async Task<IReadOnlyList<Route>> ReadAsync(IServiceProvider services)
    {
        var served = (await ServedAsync(services)).ToDictionary(r => (r.Method, r.Path, r.Handler));
        var routes = new List<Route>();
        foreach (var endpoint in Routes.All)
        {
            var key = (endpoint.Method, "/" + endpoint.Pattern.Trim('/'), endpoint.Handler);
            Assert.True(served.TryGetValue(key, out var route), $"Routes.All names {key} but the app does not serve it");
            routes.Add(route!);
        }
        return routes;
    }

    /// What the app serves, from its endpoints (every Razor Page handler included), with their policies.
    public static async Task<IReadOnlyList<Route>> ServedAsync(IServiceProvider services)
    {
        var loader = services.GetRequiredService<PageLoader>();
        var routes = new List<Route>();
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<ISuppressMatchingMetadata>()?.SuppressMatching == true) continue;
            if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                // Page authorization ([Authorize], folder conventions) lives on the compiled page.
                var compiled = await loader.LoadAsync(page, endpoint.Metadata);
                var metadata = compiled.Endpoint?.Metadata ?? new EndpointMetadataCollection(compiled.EndpointMetadata);
                var handlers = compiled.HandlerMethods.Count > 0
                    ? compiled.HandlerMethods.Select(h => (Method: h.HttpMethod.ToUpperInvariant(), h.Name, Info: (MethodInfo?)h.MethodInfo))
                    : [("GET", null, null)];
                foreach (var (method, name, info) in handlers)
                {
                    var policies = PoliciesOf(metadata).ToList();
                    if (info?.GetCustomAttribute<HandlerPolicyAttribute>() is { } handlerPolicy) policies.Add(handlerPolicy.Policy);
                    routes.Add(new Route(endpoint.RoutePattern, method, name, policies, metadata.GetMetadata<IAllowAnonymous>() is not null));
                }
                continue;
            }
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST", "PUT", "PATCH", "DELETE"];
            foreach (var method in methods.Where(m => m != "HEAD" && m != "OPTIONS"))
                routes.Add(new Route(endpoint.RoutePattern, method, null, PoliciesOf(endpoint.Metadata).ToList(), endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null));
        }
        Assert.NotEmpty(routes);
        return routes;
    }

    /// A concrete path for a route: literals as they stand, each parameter as `value` gives it (the caller
    /// encodes; an empty value makes an empty segment), null to leave it out: a segment that a left-out
    /// parameter starts (an optional `{handler?}` alone) is dropped.
    public static string PathFor(Route route, Func<RoutePatternParameterPart, string?> value)
    {
        var segments = new List<string>();
        foreach (var segment in route.Pattern.PathSegments)
        {
            var text = new System.Text.StringBuilder();
            var drop = false;
            foreach (var part in segment.Parts)
            {
                switch (part)
                {
                    case RoutePatternLiteralPart literal: text.Append(literal.Content); break;
                    case RoutePatternSeparatorPart separator: text.Append(separator.Content); break;
                    case RoutePatternParameterPart parameter:
                        if (value(parameter) is { } given) text.Append(given);
                        else drop = text.Length == 0;
                        break;
                }
            }
            if (!drop) segments.Add(text.ToString());
        }
        return "/" + string.Join('/', segments);
    }

    private static IEnumerable<string> PoliciesOf(EndpointMetadataCollection metadata) =>
        metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy ?? "(no policy name)");
}
