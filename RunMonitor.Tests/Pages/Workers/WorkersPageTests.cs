using System.Net;
using System.Net.Http.Json;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Pages.Workers;

/// `/ui/workers` and its fragment `/ui/workers/list`: one row per worker with its badge, host, version, workflows, the
/// runs it holds as links, the relative last-seen time and the 24-hour counts; a nav entry on every page.
public class WorkersPageTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    [Fact]
    public async Task Page_ShowsEachWorkerWithItsFacts_AndPollsTheFragment()
    {
        var ingest = factory.Bearer("alpha", Roles.Ingest);
        var run = (await ingest.CreateRunAsync(new { workflowName = "wf-page" })).GetProperty("id").GetString()!;
        await ingest.PostAsJsonAsync("/api/workers/page-worker/heartbeat", new { host = "rack-<7>", version = "3.1", workflows = new[] { "wf-page" } });
        await ingest.PostAsJsonAsync("/api/queue/claim", new { worker = "page-worker", workflows = new[] { "wf-page" } });
        factory.Clock.Advance(TimeSpan.FromSeconds(10));

        var page = await factory.Bearer("alpha", Roles.Viewer).GetDocumentAsync("/ui/workers");

        var row = page.QuerySelector("table.workers-table tbody tr[data-worker='page-worker']")!;
        Assert.NotNull(row);
        Assert.Equal("active", row.QuerySelector(".badge.worker-status").Text());
        Assert.Equal("rack-<7>", row.QuerySelector(".worker-host").Text());
        Assert.Equal("3.1", row.QuerySelector(".worker-version").Text());
        Assert.Equal("wf-page", row.QuerySelector(".worker-workflows").Text());
        var link = row.QuerySelector("a.worker-run")!;
        Assert.Equal(run, link.Text());
        Assert.Equal($"/runs/{run}", link.GetAttribute("href"));
        var seen = row.QuerySelector(".worker-seen time")!;
        Assert.Equal("10 seconds ago", seen.Text());
        Assert.Equal("1", row.QuerySelector(".worker-claimed").Text());
        Assert.Equal("0", row.QuerySelector(".worker-failed").Text());
        Assert.Null(row.QuerySelector(".worker-tenant"));
        Assert.Equal("/ui/workers/list", page.QuerySelector("#workers-list")!.GetAttribute("hx-get"));
        Assert.Contains("every", page.QuerySelector("#workers-list")!.GetAttribute("hx-trigger"));
        Assert.Equal("page", page.QuerySelector("nav a[href='/ui/workers']")!.GetAttribute("aria-current"));
    }

    [Fact]
    public async Task Fragment_IsTheTableAlone_ScopedToTheTenant()
    {
        await factory.Bearer("beta", Roles.Ingest).PostAsJsonAsync("/api/workers/beta-only/heartbeat", new { });

        var response = await factory.Bearer("alpha", Roles.Viewer).GetAsync("/ui/workers/list");
        var html = await response.Content.ReadAsStringAsync();
        var fragment = await Html.ParseAsync(new HttpResponseMessage { Content = new StringContent(html) });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("<html", html, StringComparison.OrdinalIgnoreCase);
        Assert.Null(fragment.QuerySelector("tr[data-worker='beta-only']"));
        var admin = await factory.Bearer(KeyedFactory.SuperAdminKey).GetDocumentAsync("/ui/workers/list");
        Assert.Equal("beta", admin.QuerySelector("tr[data-worker='beta-only'] .worker-tenant").Text());
    }

    [Fact]
    public async Task Viewer_NamingATenant_400ErrorFragmentNamingIt()
    {
        var response = await factory.Bearer("beta", Roles.Viewer).GetAsync("/ui/workers/list?tenant=alpha");
        var page = await Html.ParseAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("tenant", page.QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Theory]
    [InlineData("/ui/workers?sort=name", "sort")]
    [InlineData("/ui/workers/list?x=1", "x")]
    public async Task BadParameter_400ErrorFragment(string url, string name)
    {
        var response = await factory.Bearer("alpha", Roles.Viewer).GetAsync(url);
        var doc = await Html.ParseAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(name, doc.QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task RunsPage_NavLinksToWorkers()
    {
        var page = await factory.Bearer("alpha", Roles.Viewer).GetDocumentAsync("/ui/runs");

        Assert.NotNull(page.QuerySelector("nav a[href='/ui/workers']"));
    }
}

public sealed class WorkersPageTestsOnPostgres(PostgresKeyedFactory factory) : WorkersPageTests(factory), IClassFixture<PostgresKeyedFactory>;
