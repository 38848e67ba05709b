using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing.Patterns;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;
using Route = RunMonitor.Tests.Security.RouteTable.Route;

namespace RunMonitor.Tests.Security;

/// Walks the app's real route table (EndpointDataSource, every Razor Page handler included), so a
/// route added later is checked without anyone listing it here. Statically: every endpoint names one
/// of `Policies`, every write needs a role, admin routes need RequireAdmin. Dynamically: every role of
/// two tenants calls every route against the other tenant's run: 403 where the role lacks the right,
/// else never a 2xx, a 409 or the other tenant's data; anonymous callers get 401 or the login page.
public partial class IdorMatrixTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    /// Routes anyone may reach without a key.
    private static readonly HashSet<string> PublicRoutes = ["GET /login", "POST /login"];

    /// Writes any signed-in caller may make (they concern only their own session).
    private static readonly HashSet<string> AnySignedInWrites = ["POST /logout"];

    private static readonly string[] RolePolicies = [Policies.RequireOperator, Policies.RequireIngest, Policies.RequireAdmin];

    private Task<IReadOnlyList<Route>> RoutesAsync() => RouteTable.ReadAsync(factory.Services);

    [Fact]
    public async Task RouteTable_EveryEndpoint_NamesAPolicyOrIsPublic()
    {
        var problems = new List<string>();
        foreach (var route in await RoutesAsync())
        {
            if (PublicRoutes.Contains(route.Key))
            {
                if (!route.AllowAnonymous) problems.Add($"{route.Display} is listed public but is not [AllowAnonymous]");
                continue;
            }
            if (route.AllowAnonymous) problems.Add($"{route.Display} allows anonymous callers but is not in PublicRoutes");
            if (!route.Policies.Any(Policies.All.Contains))
                problems.Add($"{route.Display} names no policy: add .RequireAuthorization(Policies.RequireRead | RequireOperator | RequireIngest | RequireAdmin)");
            foreach (var unknown in route.Policies.Where(p => !Policies.All.Contains(p)))
                problems.Add($"{route.Display} names unknown policy '{unknown}'");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task RouteTable_EveryWrite_NeedsARoleAndAdminRoutesNeedAdmin()
    {
        var problems = new List<string>();
        foreach (var route in await RoutesAsync())
        {
            if (route.IsUnsafe && !PublicRoutes.Contains(route.Key) && !AnySignedInWrites.Contains(route.Key) && !route.Policies.Any(RolePolicies.Contains))
                problems.Add($"{route.Display} changes state but only needs a signed-in caller: add RequireOperator, RequireIngest or RequireAdmin " +
                             "(on a Razor Page handler: [HandlerPolicy(Policies.RequireOperator)])");
            if (route.IsAdminRoute && !route.Policies.Contains(Policies.RequireAdmin))
                problems.Add($"{route.Display} is an admin route without RequireAdmin");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// One tenant's run (with a step, a payload and an artifact) whose every field carries `Secret`, and a bulk operation.
    private sealed record Seeded(string RunId, string ArtifactId, string Secret, string OperationId);

    private async Task<IReadOnlyDictionary<string, Seeded>> SeedAsync()
    {
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);
        var seeded = new Dictionary<string, Seeded>();
        foreach (var tenant in KeyedFactory.Tenants)
        {
            var secret = $"matrix-secret-of-{tenant}";
            var run = await admin.CreateRunAsync(new
            {
                workflowName = secret, tenantId = tenant, name = secret, status = "running",
                steps = new[] { new { stepId = "s1", skillId = "matrix.skill" } },
                context = new { secret },
            });
            var runId = run.GetProperty("id").GetString()!;
            Assert.True((await admin.PutAsJsonAsync($"/api/runs/{runId}/steps/s1", new { status = "running", input = new { secret } })).IsSuccessStatusCode);
            var upload = await admin.PostAsync($"/api/runs/{runId}/steps/s1/artifacts?name={secret}.txt", new StringContent(secret));
            Assert.True(upload.IsSuccessStatusCode, await upload.Content.ReadAsStringAsync());
            // A bulk operation of the tenant (on none of its runs: the run stays as it is for the other routes).
            var bulk = await admin.PostAsJsonAsync("/api/bulk", new { action = "retry", filter = new { tenant, workflow = "matrix-bulk-matches-nothing" }, expectedCount = 0 });
            Assert.True(bulk.StatusCode == HttpStatusCode.Accepted, await bulk.Content.ReadAsStringAsync());
            var operationId = (await bulk.JsonAsync()).GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
            seeded[tenant] = new Seeded(runId, (await upload.JsonAsync()).GetProperty("id").GetString()!, secret, operationId);
        }
        return seeded;
    }

    /// Parameters the matrix knows how to fill with the target tenant's things; any other gets "x" and the
    /// route is still checked for roles and leaks, but not for a positive answer on its own tenant.
    private static readonly HashSet<string> KnownParameters = ["id", "runId", "stepId", "artifactId", "field", "format", "handler", "operationId"];

    private static bool AllParametersKnown(Route route) => route.Pattern.Parameters.All(p => KnownParameters.Contains(p.Name));

    /// Fills a route's parameters from the target tenant's seeded run: its id, step, artifact, a payload
    /// field, an export format, the page handler; anything else "x".
    private static string UrlFor(Route route, Seeded target)
    {
        var path = RouteTable.PathFor(route, parameter => (parameter.Name switch
        {
            "id" or "runId" => target.RunId,
            "stepId" => "s1",
            "artifactId" => target.ArtifactId,
            "operationId" => target.OperationId,
            "field" => route.Pattern.Parameters.Any(p => p.Name == "stepId") ? "input" : "context",
            "format" => "json",
            "handler" => route.Handler?.ToLowerInvariant(),
            _ => "x",
        }) is { } value ? Uri.EscapeDataString(value) : null);
        if (route.Handler is not null && !route.Pattern.Parameters.Any(p => p.Name == "handler"))
            path += "?handler=" + Uri.EscapeDataString(route.Handler);
        return path;
    }

    private static async Task<(HttpStatusCode Status, string Body, string? Location)> CallAsync(HttpClient client, Route route, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(route.Method), url);
        // Each route's own kind of body (a UI form route answers any other 415): the role is what the matrix is about.
        if (route.Method is "POST" or "PUT" or "PATCH")
            request.Content = url.StartsWith("/api", StringComparison.Ordinal)
                ? new StringContent("{}", Encoding.UTF8, "application/json")
                : new FormUrlEncodedContent([]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            // A stream (SSE) is judged by its status and headers; its body never ends.
            var body = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
                ? ""
                : await response.Content.ReadAsStringAsync(timeout.Token);
            return (response.StatusCode, body, response.Headers.Location?.OriginalString);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{route.Method} {url} did not answer within 10 s");
            throw;
        }
    }

    /// The least role of the tenant that may call the route (viewer for reads, operator for bulk operations).
    private static string FirstRoleAllowed(Route route, string tenant) =>
        KeyedFactory.RoleNames.First(r => route.Policies.Where(Policies.All.Contains).All(p => Policies.Allows(p, new Caller(tenant, r))));

    [Fact]
    public async Task Matrix_EveryRoleOfTwoTenants_OnEveryRoute_IsolatedAndRoleChecked()
    {
        var seeded = await SeedAsync();
        var routes = await RoutesAsync();
        var problems = new List<string>();
        foreach (var tenant in KeyedFactory.Tenants)
        {
            var other = KeyedFactory.Tenants.Single(t => t != tenant);
            foreach (var role in KeyedFactory.RoleNames)
            {
                var client = factory.Bearer(tenant, role);
                var caller = new Caller(tenant, role);
                foreach (var route in routes.Where(r => !PublicRoutes.Contains(r.Key)))
                {
                    var who = $"{role}@{tenant} {route.Display}";
                    var mayCall = route.Policies.Where(Policies.All.Contains).All(p => Policies.Allows(p, caller));
                    var (status, body, _) = await CallAsync(client, route, UrlFor(route, seeded[other]));

                    if ((int)status >= 500) problems.Add($"{who} on {other}'s run answered {(int)status}");
                    if (body.Contains(seeded[other].Secret, StringComparison.Ordinal)) problems.Add($"{who} showed {other}'s data");
                    if (!mayCall && status != HttpStatusCode.Forbidden) problems.Add($"{who} answered {(int)status}, not 403, to a role without the right");
                    if (route.IsUnsafe && role == Roles.Viewer && !AnySignedInWrites.Contains(route.Key) && status != HttpStatusCode.Forbidden)
                        problems.Add($"{who}: a viewer's write answered {(int)status}, not 403");
                    if (mayCall && route.HasRunId && (((int)status is >= 200 and < 300) || status == HttpStatusCode.Conflict))
                        problems.Add($"{who} on {other}'s run answered {(int)status}: it must be 404 (or 400 for a bad body)");

                    // The same route on its own tenant's run works, so the 404s above are about the tenant, not the URL (a
                    // finished bulk operation's polled fragment answers 286, htmx's "stop polling").
                    if (mayCall && route.Method == "GET" && route.HasRunId && AllParametersKnown(route) && role == FirstRoleAllowed(route, tenant))
                    {
                        var (own, _, _) = await CallAsync(client, route, UrlFor(route, seeded[tenant]));
                        if ((int)own is < 200 or >= 300) problems.Add($"{who} on its own run answered {(int)own}, not 200");
                    }
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Matrix_Anonymous_OnEveryRoute_IsRefused()
    {
        var seeded = await SeedAsync();
        var client = factory.Anonymous();
        var problems = new List<string>();
        foreach (var route in (await RoutesAsync()).Where(r => !PublicRoutes.Contains(r.Key)))
        {
            var (status, body, location) = await CallAsync(client, route, UrlFor(route, seeded["beta"]));
            var refused = status == HttpStatusCode.Unauthorized || (status == HttpStatusCode.Redirect && location!.StartsWith("/login", StringComparison.Ordinal));
            if (!refused) problems.Add($"anonymous {route.Display} answered {(int)status}");
            if (body.Contains(seeded["beta"].Secret, StringComparison.Ordinal)) problems.Add($"anonymous {route.Display} showed data");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Matrix_SuperAdmin_ReadsEveryTenantWithoutErrors()
    {
        var seeded = await SeedAsync();
        var client = factory.Bearer(KeyedFactory.SuperAdminKey);
        var problems = new List<string>();
        foreach (var route in (await RoutesAsync()).Where(r => r.Method == "GET" && !PublicRoutes.Contains(r.Key)))
        {
            foreach (var tenant in KeyedFactory.Tenants)
            {
                var (status, _, _) = await CallAsync(client, route, UrlFor(route, seeded[tenant]));
                if ((int)status >= 500 || status == HttpStatusCode.Forbidden) problems.Add($"super admin {route.Display} on {tenant}'s run answered {(int)status}");
                if (route.HasRunId && AllParametersKnown(route) && (int)status is < 200 or >= 300)
                    problems.Add($"super admin {route.Display} on {tenant}'s run answered {(int)status}, not 200");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}

/// The same tests with the app on PostgreSQL: tenant scoping holds on both stores.
public sealed class IdorMatrixTestsOnPostgres(PostgresKeyedFactory factory) : IdorMatrixTests(factory), IClassFixture<PostgresKeyedFactory>;
