using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

public class ApiKeyAuthTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private async Task<string> SeedRunAsync(string tenant, string name)
    {
        var run = await factory.Bearer(KeyedFactory.SuperAdminKey).CreateRunAsync(new { workflowName = "auth-wf", tenantId = tenant, name, status = "running" });
        return run.GetProperty("id").GetString()!;
    }

    [Theory]
    [InlineData("viewer")]
    [InlineData("operator")]
    [InlineData("ingest")]
    [InlineData("admin")]
    public async Task Bearer_EachRole_ReadsOnlyItsTenant(string role)
    {
        await SeedRunAsync("alpha", "alpha-read");
        await SeedRunAsync("beta", "beta-read");

        var list = await factory.Bearer("alpha", role).GetJsonAsync("/api/runs?q=-read");

        var tenants = list["items"]!.AsArray().Select(i => i!["tenantId"]!.GetValue<string>()).Distinct().ToList();
        Assert.Equal(["alpha"], tenants);
    }

    [Theory]
    [InlineData("viewer", HttpStatusCode.Forbidden)]
    [InlineData("operator", HttpStatusCode.Forbidden)]
    [InlineData("ingest", HttpStatusCode.Created)]
    [InlineData("admin", HttpStatusCode.Created)]
    public async Task Bearer_CreateRun_OnlyIngestAndAdmin(string role, HttpStatusCode expected)
    {
        var response = await factory.Bearer("alpha", role).PostAsJsonAsync("/api/runs", new { workflowName = "auth-create" });

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Created)
            Assert.Equal("alpha", (await response.JsonAsync()).GetProperty("tenantId").GetString());
        else
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Bearer_IngestForAnotherTenantsRun_Is404()
    {
        var betaRun = await SeedRunAsync("beta", "beta-patch");

        var response = await factory.Bearer("alpha", Roles.Ingest).PatchJsonAsync($"/api/runs/{betaRun}", new { status = "completed" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var run = await factory.Bearer("beta", Roles.Viewer).GetJsonAsync($"/api/runs/{betaRun}");
        Assert.Equal("running", run["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bearer_ViewerPatchingAnotherTenantsRun_Is403NotRevealingIt()
    {
        var betaRun = await SeedRunAsync("beta", "beta-403");

        var response = await factory.Bearer("alpha", Roles.Viewer).PatchJsonAsync($"/api/runs/{betaRun}", new { status = "completed" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("beta-403", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Bearer_AnotherTenantsRun_Is404OnJsonFragmentAndSteps()
    {
        var betaRun = await SeedRunAsync("beta", "beta-hidden");
        var alpha = factory.Bearer("alpha", Roles.Admin);

        Assert.Equal(HttpStatusCode.NotFound, (await alpha.GetAsync($"/api/runs/{betaRun}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alpha.GetAsync($"/api/runs/{betaRun}/steps")).StatusCode);
        var fragment = await alpha.GetAsync($"/ui/runs/{betaRun}");
        Assert.Equal(HttpStatusCode.NotFound, fragment.StatusCode);
        Assert.Equal("Run not found", (await Html.ParseAsync(fragment)).QuerySelector("p").Text());
        Assert.Equal(HttpStatusCode.OK, (await factory.Bearer("beta", Roles.Viewer).GetAsync($"/ui/runs/{betaRun}")).StatusCode);
    }

    [Fact]
    public async Task Bearer_TenantAdmin_IsLimitedToItsTenant()
    {
        var tenantAdmin = factory.Bearer("alpha", Roles.Admin);

        var created = await tenantAdmin.PostAsJsonAsync("/api/runs", new { workflowName = "auth-tenant-admin", tenantId = "beta" });
        var admin = await tenantAdmin.GetAsync("/admin");
        var stats = await tenantAdmin.GetAsync("/api/admin/runs/stats");
        var tenantFilter = await tenantAdmin.GetAsync("/ui/runs/list?tenant=beta");

        Assert.Equal(HttpStatusCode.Forbidden, created.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, stats.StatusCode);
        Assert.Equal("this is for super admins (an admin key of no tenant); your admin key belongs to tenant 'alpha'",
            (await stats.JsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, tenantFilter.StatusCode);
        Assert.Equal("tenant", (await Html.ParseAsync(tenantFilter)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task Bearer_SuperAdmin_SeesTenantColumnAndFiltersByTenant()
    {
        await SeedRunAsync("alpha", "super-alpha");
        await SeedRunAsync("beta", "super-beta");
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);

        var all = await admin.GetDocumentAsync("/ui/runs/list?q=super-");
        var beta = await admin.GetDocumentAsync("/ui/runs/list?q=super-&tenant=beta");
        var page = await admin.GetDocumentAsync("/ui/runs");

        Assert.Contains("Tenant", all.QuerySelectorAll("table.runs-table thead th").Select(th => th.Text()));
        Assert.Equal(["alpha", "beta"], all.QuerySelectorAll("td .tenant-tag").Select(t => t.Text()).Order());
        Assert.Equal(["super-beta"], beta.QuerySelectorAll("table.runs-table tbody tr .run-name").Select(a => a.Text()));
        Assert.NotNull(page.QuerySelector("select[name=tenant] option[value=beta]"));
        Assert.NotNull(page.QuerySelector("nav a[href='/admin']"));
    }

    [Fact]
    public async Task Bearer_TenantViewer_HasNoTenantColumnFilterOrAdminLink()
    {
        await SeedRunAsync("alpha", "plain-alpha");
        var viewer = factory.Bearer("alpha", Roles.Viewer);

        var page = await viewer.GetDocumentAsync("/ui/runs");

        Assert.DoesNotContain("Tenant", page.QuerySelectorAll("table.runs-table thead th").Select(th => th.Text()));
        Assert.Null(page.QuerySelector("select[name=tenant]"));
        Assert.Null(page.QuerySelector("nav a[href='/admin']"));
    }

    [Theory]
    [InlineData("viewer", false)]
    [InlineData("ingest", false)]
    [InlineData("operator", true)]
    [InlineData("admin", true)]
    public async Task RunActions_OnlyOperatorsAndAdminsAreOfferedRetryAndCancel(string role, bool offered)
    {
        var failed = await factory.Bearer(KeyedFactory.SuperAdminKey).CreateRunAsync(new { workflowName = "auth-actions", tenantId = "alpha", status = "failed" });
        var queued = await factory.Bearer(KeyedFactory.SuperAdminKey).CreateRunAsync(new { workflowName = "auth-actions", tenantId = "alpha" });
        var client = factory.Bearer("alpha", role);

        var retry = await client.GetDocumentAsync($"/ui/runs/{failed.GetProperty("id").GetString()}/actions");
        var cancel = await client.GetDocumentAsync($"/ui/runs/{queued.GetProperty("id").GetString()}/actions");

        Assert.Equal(offered, retry.QuerySelector(".run-actions button[data-action=retry]") is not null);
        Assert.Equal(offered, cancel.QuerySelector(".run-actions button[data-action=cancel]") is not null);
        Assert.NotNull(retry.QuerySelector(".run-actions"));
    }

    [Fact]
    public async Task Bearer_UnknownKey_Is401Problem()
    {
        var response = await factory.Bearer("not-a-key-at-all-0000").GetAsync("/api/runs");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task NoKey_FromLoopbackOnceKeysExist_IsNotTrusted()
    {
        var client = factory.Anonymous();

        var api = await client.GetAsync("/api/runs");
        var fragment = await client.GetAsync("/ui/runs/list");
        var htmx = new HttpRequestMessage(HttpMethod.Get, "/ui/runs/list");
        htmx.Headers.Add("HX-Request", "true");
        htmx.Headers.Add("HX-Current-URL", "http://localhost/ui/runs?status=failed");
        var htmxResponse = await client.SendAsync(htmx);
        var page = new HttpRequestMessage(HttpMethod.Get, "/ui/runs?status=failed");
        page.Headers.Accept.ParseAdd("text/html");
        var pageResponse = await client.SendAsync(page);

        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, fragment.StatusCode);
        Assert.NotNull((await Html.ParseAsync(fragment)).QuerySelector("p.error"));
        Assert.Equal(HttpStatusCode.Unauthorized, htmxResponse.StatusCode);
        Assert.Equal("/login?returnUrl=%2Fui%2Fruns%3Fstatus%3Dfailed", htmxResponse.Headers.GetValues("HX-Redirect").Single());
        Assert.Equal(HttpStatusCode.Redirect, pageResponse.StatusCode);
        Assert.Equal("/login?returnUrl=%2Fui%2Fruns%3Fstatus%3Dfailed", pageResponse.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task StoredKey_Revoked_StopsWorkingAtOnce()
    {
        var keys = factory.Services.GetRequiredService<ApiKeyStore>();
        var (key, secret) = await keys.CreateAsync("beta", Roles.Viewer);
        var client = factory.Bearer(secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);

        Assert.True(await keys.RevokeAsync(key.Id));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task AdminStats_ByRole_OnlySuperAdmin()
    {
        foreach (var role in KeyedFactory.RoleNames)
            Assert.Equal(HttpStatusCode.Forbidden, (await factory.Bearer("beta", role).GetAsync("/api/admin/runs/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.Bearer(KeyedFactory.SuperAdminKey).GetAsync("/api/admin/runs/stats?period=24h")).StatusCode);
    }
}

/// The same tests with the app on PostgreSQL: tenant scoping holds on both stores.
public sealed class ApiKeyAuthTestsOnPostgres(PostgresKeyedFactory factory) : ApiKeyAuthTests(factory), IClassFixture<PostgresKeyedFactory>;
