using System.Net;
using System.Net.Http.Json;
using System.Text;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;
using Route = RunMonitor.Tests.Security.RouteTable.Route;

namespace RunMonitor.Tests.Security;

/// The matrix's same-id cases. Run ids belong to their tenant: `shared-run` is a run of alpha and a run of beta, each
/// with a step, errors, a payload and an artifact carrying its tenant's secret. Every role of each tenant on every run
/// route of the route table sees only its own; a 409 says only what is true in the caller's tenant; a super admin
/// names the tenant.
public partial class IdorMatrixTests
{
    private const string SharedId = "shared-run";
    private static string Secret(string tenant) => $"same-id-secret-of-{tenant}";

    // Once per factory (each test gets a new instance of the class, the fixture is shared).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<KeyedFactory, Task<IReadOnlyDictionary<string, string>>> SharedSeeds = new();

    private Task<IReadOnlyDictionary<string, string>> SharedSeeded => SharedSeeds.GetValue(factory, SeedSharedAsync);

    /// Both tenants' `shared-run` (failed, so retry applies), each with step s1, an error and an artifact; the artifact ids.
    private static async Task<IReadOnlyDictionary<string, string>> SeedSharedAsync(KeyedFactory factory)
    {
        var artifacts = new Dictionary<string, string>();
        foreach (var tenant in KeyedFactory.Tenants)
        {
            var ingest = factory.Bearer(tenant, Roles.Ingest);
            var secret = Secret(tenant);
            await ingest.CreateRunAsync(new
            {
                id = SharedId, workflowName = secret, name = secret, status = "running", context = new { secret },
                steps = new[] { new { stepId = "s1", skillId = secret } },
            });
            Assert.True((await ingest.PutAsJsonAsync($"/api/runs/{SharedId}/steps/s1", new { status = "failed", input = new { secret } })).IsSuccessStatusCode);
            var upload = await ingest.PostAsync($"/api/runs/{SharedId}/steps/s1/artifacts?name={secret}.txt", new StringContent(secret));
            Assert.True(upload.IsSuccessStatusCode, await upload.Content.ReadAsStringAsync());
            artifacts[tenant] = (await upload.JsonAsync()).GetProperty("id").GetString()!;
            Assert.True((await ingest.PatchJsonAsync($"/api/runs/{SharedId}", new { status = "failed", errors = new[] { new { topic = secret, error = secret } } })).IsSuccessStatusCode);
        }
        return artifacts;
    }

    private static string SharedUrlFor(Route route, string artifactId, string? tenant)
    {
        var path = RouteTable.PathFor(route, parameter => parameter.Name switch
        {
            "id" or "runId" => SharedId,
            "stepId" => "s1",
            "artifactId" => artifactId,
            "field" => route.Pattern.Parameters.Any(p => p.Name == "stepId") ? "input" : "context",
            "format" => "json",
            "handler" => route.Handler?.ToLowerInvariant(),
            _ => "x",
        });
        var query = new List<string>();
        if (route.Handler is not null && !route.Pattern.Parameters.Any(p => p.Name == "handler")) query.Add("handler=" + route.Handler);
        if (tenant is not null) query.Add("tenant=" + tenant);
        return query.Count == 0 ? path : path + "?" + string.Join('&', query);
    }

    private static bool NamesARun(Route route) => route.Pattern.Parameters.Any(p => p.Name is "id" or "runId");

    [Fact]
    public async Task SameId_EveryRoleOfEachTenant_OnEveryRunRoute_SeesOnlyItsOwnRun()
    {
        var artifacts = await SharedSeeded;
        var routes = (await RouteTable.ReadAsync(factory.Services)).Where(NamesARun).ToList();
        var problems = new List<string>();
        foreach (var tenant in KeyedFactory.Tenants)
        {
            var other = KeyedFactory.Tenants.Single(t => t != tenant);
            foreach (var role in KeyedFactory.RoleNames)
            {
                var client = factory.Bearer(tenant, role);
                foreach (var route in routes.Where(r => r.Method == "GET"))
                {
                    var (status, body, _) = await CallAsync(client, route, SharedUrlFor(route, artifacts[tenant], null));
                    var who = $"{role}@{tenant} {route.Display}";
                    if ((int)status >= 500) problems.Add($"{who} answered {(int)status}");
                    if (body.Contains(Secret(other), StringComparison.Ordinal)) problems.Add($"{who} showed {other}'s run of the same id");
                    if (status == HttpStatusCode.OK && route.Path is "/api/runs/{id}" or "/runs/{id}" or "/ui/runs/{id}" && !body.Contains(Secret(tenant), StringComparison.Ordinal))
                        problems.Add($"{who} did not show its own run");
                    if (status == HttpStatusCode.Conflict) problems.Add($"{who} answered 409: a tenant's id is never ambiguous to it");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task SameId_CreateIdHeldOnlyByAnotherTenant_IsCreatedAndRevealsNothing()
    {
        await SharedSeeded;
        var alpha = factory.Bearer("alpha", Roles.Ingest);

        var squat = await alpha.PostAsJsonAsync("/api/runs", new { id = "only-in-beta", workflowName = "w" });
        await factory.Bearer("beta", Roles.Ingest).CreateRunAsync(new { id = "beta-own", workflowName = "w" });
        var fresh = await alpha.PostAsJsonAsync("/api/runs", new { id = "beta-own", workflowName = "w" });
        var again = await alpha.PostAsJsonAsync("/api/runs", new { id = SharedId, workflowName = "w" });

        Assert.Equal(HttpStatusCode.Created, squat.StatusCode);
        Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var detail = (await again.JsonAsync()).GetProperty("detail").GetString()!;
        Assert.Contains("tenant 'alpha'", detail);
        Assert.DoesNotContain("beta", detail);
    }

    [Fact]
    public async Task SameId_Writes_ChangeOnlyTheCallersRun()
    {
        await SharedSeeded;
        await factory.Bearer("alpha", Roles.Ingest).CreateRunAsync(new { id = "both-queued", workflowName = "w" });
        await factory.Bearer("beta", Roles.Ingest).CreateRunAsync(new { id = "both-queued", workflowName = "w" });

        var cancelled = await factory.Bearer("alpha", Roles.Operator).DeleteAsync("/api/runs/both-queued");
        var retried = await factory.Bearer("beta", Roles.Operator).PostAsync($"/api/runs/{SharedId}/retry", null);

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal("queued", (await factory.Bearer("beta", Roles.Viewer).GetJsonAsync("/api/runs/both-queued"))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        var newId = (await retried.JsonAsync()).GetProperty("newRunId").GetString()!;
        var retry = await factory.Bearer("beta", Roles.Viewer).GetJsonAsync($"/api/runs/{newId}");
        Assert.Equal(("beta", SharedId, Secret("beta")), (retry["tenantId"]!.GetValue<string>(), retry["retryOf"]!.GetValue<string>(), retry["name"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, (await factory.Bearer("alpha", Roles.Viewer).GetAsync($"/api/runs/{newId}")).StatusCode);
    }

    [Fact]
    public async Task SameId_SuperAdmin_409NamingTheTenantsUntilOneIsNamed()
    {
        var artifacts = await SharedSeeded;
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);
        var routes = (await RouteTable.ReadAsync(factory.Services)).Where(r => NamesARun(r) && r.Method == "GET").ToList();
        var problems = new List<string>();
        foreach (var route in routes)
        {
            var (ambiguous, text, _) = await CallAsync(admin, route, SharedUrlFor(route, artifacts["alpha"], null));
            if (ambiguous != HttpStatusCode.Conflict || !text.Contains("alpha, beta", StringComparison.Ordinal) || !text.Contains("?tenant=", StringComparison.Ordinal))
                problems.Add($"{route.Display} without tenant answered {(int)ambiguous}: {text[..Math.Min(200, text.Length)]}");
            if (route.Path.StartsWith("/api", StringComparison.Ordinal) && !text.Contains("\"status\":409", StringComparison.Ordinal))
                problems.Add($"{route.Display}: the 409 is not problem+json");
            foreach (var tenant in KeyedFactory.Tenants)
            {
                var (status, body, _) = await CallAsync(admin, route, SharedUrlFor(route, artifacts[tenant], tenant));
                var other = KeyedFactory.Tenants.Single(t => t != tenant);
                if ((int)status >= 400) problems.Add($"{route.Display}?tenant={tenant} answered {(int)status}");
                if (body.Contains(Secret(other), StringComparison.Ordinal)) problems.Add($"{route.Display}?tenant={tenant} showed {other}'s run");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task SameId_SuperAdminsLinks_CarryTheTenant()
    {
        await SharedSeeded;
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);

        var list = await admin.GetDocumentAsync("/ui/runs/list?q=" + SharedId);
        var page = await admin.GetDocumentAsync($"/runs/{SharedId}?tenant=beta");
        var viewer = await factory.Bearer("beta", Roles.Viewer).GetDocumentAsync("/ui/runs/list?q=" + SharedId);

        // The list a row is in (`list`, `at`: issue 19) travels too; the tenant is what this test is about.
        static string WithoutWalk(string? href) => System.Text.RegularExpressions.Regex.Replace(href!, "[?&]list=[^&]*&at=[0-9]+$", "");
        var rows = list.QuerySelectorAll("table.runs-table tbody tr a.run-name").Select(a => WithoutWalk(a.GetAttribute("href"))).Order().ToList();
        Assert.Equal([$"/runs/{SharedId}?tenant=alpha", $"/runs/{SharedId}?tenant=beta"], rows);
        var runLinks = page.QuerySelectorAll(".step-link, .step-panel-close, .run-actions form").ToList();
        Assert.NotEmpty(runLinks);
        Assert.All(runLinks, e => Assert.Contains("tenant=beta", e.GetAttribute("href") ?? e.GetAttribute("action")));
        Assert.Equal([$"/runs/{SharedId}"], viewer.QuerySelectorAll("table.runs-table tbody tr a.run-name").Select(a => WithoutWalk(a.GetAttribute("href"))));
    }

    [Fact]
    public async Task SameId_TenantParameterFromATenantsKey_400()
    {
        await SharedSeeded;

        var response = await factory.Bearer("alpha", Roles.Viewer).GetAsync($"/api/runs/{SharedId}?tenant=beta");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("tenant", out _));
    }
}
