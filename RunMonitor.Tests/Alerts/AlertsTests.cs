using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Tests.Webhooks;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Alerts;

/// The app with keys, alert rules of every kind (scoped by tenant and workflow) and two webhook receivers on one
/// loopback receiver: one for every tenant, one for beta with its own secret. Evaluation is driven by the tests
/// (`EvaluateAsync`) on the fixture's clock; the background pass waits an hour between rounds.
public sealed class AlertsFactory(TestStore store, string hookUrl) : KeyedFactory(store)
{
    public const string Secret = "alert-secret";
    public const string BetaSecret = "beta-alert-secret";

    public static readonly Dictionary<string, string?> Rules = new()
    {
        ["RunMonitor:Alerts:IntervalSeconds"] = "3600",
        ["RunMonitor:Alerts:0:Name"] = "fail-alpha", ["RunMonitor:Alerts:0:Kind"] = "failureRate", ["RunMonitor:Alerts:0:Threshold"] = "0.5",
        ["RunMonitor:Alerts:0:WindowMinutes"] = "60", ["RunMonitor:Alerts:0:Tenant"] = "alpha", ["RunMonitor:Alerts:0:Workflow"] = "wf-fail",
        ["RunMonitor:Alerts:1:Name"] = "stuck-alpha", ["RunMonitor:Alerts:1:Kind"] = "stuckRuns", ["RunMonitor:Alerts:1:Threshold"] = "1",
        ["RunMonitor:Alerts:1:WindowMinutes"] = "30", ["RunMonitor:Alerts:1:Tenant"] = "alpha", ["RunMonitor:Alerts:1:Workflow"] = "wf-stuck",
        ["RunMonitor:Alerts:2:Name"] = "queue-alpha", ["RunMonitor:Alerts:2:Kind"] = "queueDepth", ["RunMonitor:Alerts:2:Threshold"] = "3",
        ["RunMonitor:Alerts:2:Tenant"] = "alpha", ["RunMonitor:Alerts:2:Workflow"] = "wf-queue",
        ["RunMonitor:Alerts:3:Name"] = "cost-beta", ["RunMonitor:Alerts:3:Kind"] = "costPerDay", ["RunMonitor:Alerts:3:Threshold"] = "1.0",
        ["RunMonitor:Alerts:3:Tenant"] = "beta",
        ["RunMonitor:Alerts:4:Name"] = "cost-beta-wf", ["RunMonitor:Alerts:4:Kind"] = "costPerDay", ["RunMonitor:Alerts:4:Threshold"] = "0.5",
        ["RunMonitor:Alerts:4:Tenant"] = "beta", ["RunMonitor:Alerts:4:Workflow"] = "wf-cost-scoped",
        ["RunMonitor:Alerts:5:Name"] = "silence-alpha", ["RunMonitor:Alerts:5:Kind"] = "silence", ["RunMonitor:Alerts:5:WindowMinutes"] = "10",
        ["RunMonitor:Alerts:5:Tenant"] = "alpha", ["RunMonitor:Alerts:5:Workflow"] = "wf-beat",
        ["RunMonitor:Alerts:6:Name"] = "queue-everyone", ["RunMonitor:Alerts:6:Kind"] = "queueDepth", ["RunMonitor:Alerts:6:Threshold"] = "100000",
        // The banner's link test's own: super admins' only, so the tenants' lists of rules stay as the other tests read them.
        ["RunMonitor:Alerts:7:Name"] = "fail-everyone-link", ["RunMonitor:Alerts:7:Kind"] = "failureRate", ["RunMonitor:Alerts:7:Threshold"] = "0.5",
        ["RunMonitor:Alerts:7:WindowMinutes"] = "90", ["RunMonitor:Alerts:7:Workflow"] = "wf-fail-link",
    };

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            foreach (var (key, value) in Rules) settings[key] = value;
            settings["RunMonitor:Webhooks:0:Url"] = hookUrl;
            settings["RunMonitor:Webhooks:0:Secret"] = Secret;
            settings["RunMonitor:Webhooks:1:Url"] = hookUrl;
            settings["RunMonitor:Webhooks:1:Secret"] = BetaSecret;
            settings["RunMonitor:Webhooks:1:Tenant"] = "beta";
            return settings;
        }
    }
}

public class AlertsFixture : IAsyncLifetime
{
    protected virtual TestStore Store => TestStore.Sqlite;

    public WebhookReceiver Receiver { get; } = new();

    public AlertsFactory Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Receiver.StartAsync();
        Factory = new AlertsFactory(Store, Receiver.Url);
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

public sealed class PostgresAlertsFixture : AlertsFixture
{
    protected override TestStore Store => TestStore.Postgres;
}

/// SPEC "Alerts": each kind fires at its threshold and resolves below it, one event each way, scoped by workflow and
/// tenant; `/api/alerts`, the banner on every page and `/admin`; the events as signed webhooks.
public class AlertsTests(AlertsFixture fixture) : IClassFixture<AlertsFixture>
{
    private AlertsFactory Factory => fixture.Factory;

    private HttpClient Ingest(string tenant = "alpha") => Factory.Bearer(tenant, Roles.Ingest);

    private Task<IReadOnlyList<AlertEventRow>> EvaluateAsync() => Factory.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync();

    private async Task<JsonNode> AlertsAsync(string key) => await Factory.Bearer(key).GetJsonAsync("/api/alerts");

    private async Task<JsonNode> RuleAsync(string rule, string? key = null)
    {
        var alerts = await AlertsAsync(key ?? KeyedFactory.SuperAdminKey);
        return alerts["rules"]!.AsArray().Single(r => (string)r!["name"]! == rule)!;
    }

    private async Task<List<JsonNode>> EventsAsync(string rule) =>
        (await AlertsAsync(KeyedFactory.SuperAdminKey))["events"]!.AsArray().Where(e => (string)e!["rule"]! == rule).Select(e => e!).Reverse().ToList();

    private async Task CreateAsync(HttpClient client, string workflow, string status, int count = 1, object? usage = null)
    {
        for (var i = 0; i < count; i++)
            await client.CreateRunAsync(usage is null ? new { workflowName = workflow, status } : new { workflowName = workflow, status, usage });
    }

    [Fact]
    public async Task FailureRate_FiresAtThresholdOnceFiveFinished_ResolvesBelowIt_OneEventEach()
    {
        var client = Ingest();
        await CreateAsync(client, "wf-fail", "failed", 2);
        await CreateAsync(client, "wf-fail", "completed", 2);
        await EvaluateAsync();
        var fewer = await RuleAsync("fail-alpha");
        // Three failed of six: 0.5, at the threshold.
        await CreateAsync(client, "wf-fail", "failed");
        await CreateAsync(client, "wf-fail", "completed");
        await CreateAsync(client, "wf-fail", "running");
        await EvaluateAsync();
        var at = await RuleAsync("fail-alpha");
        await EvaluateAsync();
        var still = await RuleAsync("fail-alpha");
        await CreateAsync(client, "wf-fail", "partial");
        await EvaluateAsync();
        var below = await RuleAsync("fail-alpha");

        Assert.Null(fewer["value"]?.GetValue<double?>());
        Assert.Equal("ok", (string)fewer["state"]!);
        Assert.Equal(0.5, (double)at["value"]!);
        Assert.Equal("firing", (string)at["state"]!);
        Assert.Equal("firing", (string)still["state"]!);
        Assert.Equal(Math.Round(3.0 / 7, 4), (double)below["value"]!);
        Assert.Equal("ok", (string)below["state"]!);
        var events = await EventsAsync("fail-alpha");
        Assert.Equal(["firing", "resolved"], events.Select(e => (string)e["state"]!).ToArray());
        Assert.Equal(0.5, (double)events[0]["value"]!);
        Assert.Equal(0.5, (double)events[0]["threshold"]!);
        Assert.Equal(Factory.Clock.GetUtcNow(), DateTimeOffset.Parse((string)events[1]["at"]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task FailureRate_CountsOnlyItsTenantsAndWorkflowsRuns_InsideTheWindow()
    {
        await CreateAsync(Ingest("beta"), "wf-fail", "failed", 6);
        await CreateAsync(Ingest(), "wf-fail-other", "failed", 6);
        await EvaluateAsync();
        var before = (double?)(await RuleAsync("fail-alpha"))["value"];
        await CreateAsync(Ingest(), "wf-fail", "completed", 5);
        await EvaluateAsync();
        var withOwn = (await RuleAsync("fail-alpha"))["value"]!.GetValue<double>();
        Factory.Clock.Advance(TimeSpan.FromMinutes(61));
        await EvaluateAsync();
        var later = await RuleAsync("fail-alpha");

        // Another tenant's and another workflow's failures never count; only what finished in the last hour does.
        Assert.True(before is null or < 0.5, $"value {before}");
        Assert.True(withOwn < 0.5, $"value {withOwn}");
        Assert.Null(later["value"]?.GetValue<double?>());
        Assert.Equal("ok", (string)later["state"]!);
    }

    [Fact]
    public async Task StuckRuns_FireWhenRunningLongerThanTheWindow_ResolveWhenFinished()
    {
        var client = Ingest();
        var id = (await client.CreateRunAsync(new { workflowName = "wf-stuck", status = "running" })).GetProperty("id").GetString()!;
        await CreateAsync(Ingest("beta"), "wf-stuck", "running");
        Factory.Clock.Advance(TimeSpan.FromMinutes(29));
        await EvaluateAsync();
        var young = await RuleAsync("stuck-alpha");
        // Running for 30 minutes is not yet longer than the window; a second more is.
        Factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await EvaluateAsync();
        var atWindow = await RuleAsync("stuck-alpha");
        Factory.Clock.Advance(TimeSpan.FromSeconds(1));
        await EvaluateAsync();
        var stuck = await RuleAsync("stuck-alpha");
        await client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
        await EvaluateAsync();
        var done = await RuleAsync("stuck-alpha");

        Assert.Equal(0, (double)young["value"]!);
        Assert.Equal("ok", (string)young["state"]!);
        Assert.Equal(0, (double)atWindow["value"]!);
        Assert.Equal(1, (double)stuck["value"]!);
        Assert.Equal("firing", (string)stuck["state"]!);
        Assert.Equal(0, (double)done["value"]!);
        Assert.Equal(["firing", "resolved"], (await EventsAsync("stuck-alpha")).Select(e => (string)e["state"]!).TakeLast(2).ToArray());
    }

    [Fact]
    public async Task QueueDepth_FiresAtThreshold_BannerOnEveryPageOfItsTenantOnly_ResolvesWhenDrained()
    {
        var client = Ingest();
        await CreateAsync(client, "wf-queue", "queued", 2);
        await CreateAsync(Ingest("beta"), "wf-queue", "queued", 5);
        await EvaluateAsync();
        var two = await RuleAsync("queue-alpha");
        var last = (await client.CreateRunAsync(new { workflowName = "wf-queue" })).GetProperty("id").GetString()!;
        await EvaluateAsync();
        var three = await RuleAsync("queue-alpha");

        var viewer = Factory.Bearer("alpha", Roles.Viewer);
        var banner = await viewer.GetDocumentAsync("/ui/alerts/banner");
        var item = banner.QuerySelector(".alert-banner [data-rule='queue-alpha']");
        var runsPage = await viewer.GetDocumentAsync("/ui/runs");
        var workersPage = await viewer.GetDocumentAsync("/ui/workers");
        var betaBanner = await Factory.Bearer("beta", Roles.Viewer).GetDocumentAsync("/ui/alerts/banner");
        await Factory.Bearer("alpha", Roles.Operator).DeleteAsync($"/api/runs/{last}");
        await EvaluateAsync();
        var drained = await RuleAsync("queue-alpha");
        var cleared = await viewer.GetDocumentAsync("/ui/alerts/banner");

        Assert.Equal(2, (double)two["value"]!);
        Assert.Equal("ok", (string)two["state"]!);
        Assert.Equal("firing", (string)three["state"]!);
        Assert.NotNull(item);
        Assert.Equal("/ui/runs?workflow=wf-queue&status=queued", item!.QuerySelector("a")!.GetAttribute("href"));
        Assert.Contains("3 runs queued (threshold 3)", item.Text().Squash());
        Assert.NotNull(runsPage.QuerySelector("#alert-banner-slot .alert-banner [data-rule='queue-alpha']"));
        Assert.Equal("/ui/alerts/banner", runsPage.QuerySelector("#alert-banner-slot")!.GetAttribute("hx-get"));
        Assert.NotNull(workersPage.QuerySelector(".alert-banner [data-rule='queue-alpha']"));
        // The banner is not live (each poll would have it read out again); a page's one polite status, outside the polled
        // slot and empty as served, is where app.js says that the set of firing rules changed.
        Assert.Null(banner.QuerySelector("[aria-live], [role=status], [role=alert]"));
        var announcer = runsPage.QuerySelector("#alert-announcer");
        Assert.NotNull(announcer);
        Assert.Equal("status", announcer!.GetAttribute("role"));
        Assert.Null(announcer.Closest("#alert-banner-slot"));
        Assert.Equal("", announcer.TextContent);
        Assert.Null(betaBanner.QuerySelector("[data-rule='queue-alpha']"));
        Assert.Equal("ok", (string)drained["state"]!);
        Assert.Null(cleared.QuerySelector("[data-rule='queue-alpha']"));
    }

    [Fact]
    public async Task CostPerDay_TenantAndWorkflow_FireAtThreshold_ResolveWhenTheDayHasPassed()
    {
        var beta = Ingest("beta");
        await CreateAsync(beta, "wf-cost", "completed", usage: new { model = "m", costUsd = 0.6 });
        await CreateAsync(Ingest("alpha"), "wf-cost", "completed", usage: new { model = "m", costUsd = 5.0 });
        await EvaluateAsync();
        var under = await RuleAsync("cost-beta");
        await CreateAsync(beta, "wf-cost-scoped", "completed", usage: new { model = "m", costUsd = 0.5 });
        await EvaluateAsync();
        var over = await RuleAsync("cost-beta");
        var scoped = await RuleAsync("cost-beta-wf");
        Factory.Clock.Advance(TimeSpan.FromHours(49));
        await EvaluateAsync();
        var dayLater = await RuleAsync("cost-beta");
        var scopedLater = await RuleAsync("cost-beta-wf");

        Assert.Equal("ok", (string)under["state"]!);
        Assert.True((double)under["value"]! < 1.0);
        Assert.Equal(1.1, (double)over["value"]!, 3);
        Assert.Equal("firing", (string)over["state"]!);
        Assert.Equal(0.5, (double)scoped["value"]!, 3);
        Assert.Equal("firing", (string)scoped["state"]!);
        Assert.Equal("ok", (string)dayLater["state"]!);
        Assert.Equal("ok", (string)scopedLater["state"]!);
        Assert.Equal(["firing", "resolved"], (await EventsAsync("cost-beta")).Select(e => (string)e["state"]!).TakeLast(2).ToArray());
    }

    [Fact]
    public async Task Silence_FiresForAWorkflowThatNeverRan_ResolvesOnARun_FiresAgainAfterItsWindowOfQuiet()
    {
        await EvaluateAsync();
        var never = await RuleAsync("silence-alpha");
        await CreateAsync(Ingest(), "wf-beat", "queued");
        await EvaluateAsync();
        var alive = await RuleAsync("silence-alpha");
        Factory.Clock.Advance(TimeSpan.FromMinutes(9));
        await CreateAsync(Ingest("beta"), "wf-beat", "queued");
        await EvaluateAsync();
        var quiet9 = await RuleAsync("silence-alpha");
        Factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await EvaluateAsync();
        var quiet10 = await RuleAsync("silence-alpha");

        Assert.Equal("firing", (string)never["state"]!);
        Assert.Null(never["value"]?.GetValue<double?>());
        Assert.Equal("ok", (string)alive["state"]!);
        Assert.Equal(0, (double)alive["value"]!);
        Assert.Equal("ok", (string)quiet9["state"]!);
        Assert.Equal(9, (double)quiet9["value"]!);
        Assert.Equal("firing", (string)quiet10["state"]!);
        Assert.Equal(10, (double)quiet9["threshold"]!);
    }

    [Fact]
    public async Task ApiAlerts_ShowsTheCallersTenantsRules_SuperAdminAll()
    {
        await EvaluateAsync();

        var alpha = await AlertsAsync(KeyedFactory.KeyFor("alpha", Roles.Viewer));
        var beta = await AlertsAsync(KeyedFactory.KeyFor("beta", Roles.Ingest));
        var all = await AlertsAsync(KeyedFactory.SuperAdminKey);
        var betaOnly = await Factory.Bearer(KeyedFactory.SuperAdminKey).GetJsonAsync("/api/alerts?tenant=beta");

        Assert.Equal(["fail-alpha", "stuck-alpha", "queue-alpha", "silence-alpha"], alpha["rules"]!.AsArray().Select(r => (string)r!["name"]!).ToArray());
        Assert.All(alpha["events"]!.AsArray(), e => Assert.EndsWith("-alpha", (string)e!["rule"]!));
        Assert.Equal(["cost-beta", "cost-beta-wf"], beta["rules"]!.AsArray().Select(r => (string)r!["name"]!).ToArray());
        Assert.Equal(AlertsFactory.Rules.Count(r => r.Key.EndsWith(":Name", StringComparison.Ordinal)), all["rules"]!.AsArray().Count);
        Assert.Contains(all["rules"]!.AsArray(), r => (string)r!["name"]! == "queue-everyone");
        Assert.Equal(["cost-beta", "cost-beta-wf"], betaOnly["rules"]!.AsArray().Select(r => (string)r!["name"]!).ToArray());
        var rule = alpha["rules"]!.AsArray().Single(r => (string)r!["name"]! == "fail-alpha")!;
        Assert.Equal("failureRate", (string)rule["kind"]!);
        Assert.Equal(0.5, (double)rule["threshold"]!);
    }

    [Fact]
    public async Task ApiAlerts_WindowMinutes_OnlyForTheKindsThatHaveAWindow_NullForQueueDepthAndCostPerDay()
    {
        var rules = (await AlertsAsync(KeyedFactory.SuperAdminKey))["rules"]!.AsArray().ToDictionary(r => (string)r!["name"]!, r => r!.AsObject());

        Assert.Equal(60, (double)rules["fail-alpha"]["windowMinutes"]!);
        Assert.Equal(30, (double)rules["stuck-alpha"]["windowMinutes"]!);
        Assert.Equal(10, (double)rules["silence-alpha"]["windowMinutes"]!);
        // The key is kept, as a rule's tenant and workflow are when it has none: null, not an hour it never looks at.
        foreach (var rule in new[] { "queue-alpha", "queue-everyone", "cost-beta", "cost-beta-wf" })
        {
            Assert.True(rules[rule].ContainsKey("windowMinutes"), rule);
            Assert.Null(rules[rule]["windowMinutes"]);
        }
    }

    /// The list a windowed rule's banner links to is bounded by its window, as the rule counts (`from` the start of a
    /// failure rate's window); the link opens the runs that fired it, not the workflow's failures of all time.
    [Fact]
    public async Task Banner_FailureRate_LinksToItsFailuresFromTheWindowsStart()
    {
        var admin = Factory.Bearer(KeyedFactory.SuperAdminKey);
        await CreateAsync(Ingest(), "wf-fail-link", "failed", 5);
        Factory.Clock.Advance(TimeSpan.FromMinutes(91));
        await CreateAsync(Ingest(), "wf-fail-link", "failed", 5);
        await EvaluateAsync();
        var windowStart = (Factory.Clock.GetUtcNow() - TimeSpan.FromMinutes(90)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var banner = await admin.GetDocumentAsync("/ui/alerts/banner");
        var link = banner.QuerySelector(".alert-banner [data-rule='fail-everyone-link'] a")!.GetAttribute("href")!;
        var list = await admin.GetDocumentAsync(link.Replace("/ui/runs?", "/ui/runs/list?", StringComparison.Ordinal));
        Factory.Clock.Advance(TimeSpan.FromMinutes(91));
        await EvaluateAsync();

        Assert.Equal($"/ui/runs?workflow=wf-fail-link&status=failed&from={Uri.EscapeDataString(windowStart)}", link);
        Assert.Equal(5, list.QuerySelectorAll("table.runs-table tbody tr").Length);
    }

    /// A stuck run has run since before the window began: the banner's list ends there (`to`), where a `from` would
    /// show every run but the stuck ones.
    [Fact]
    public async Task Banner_StuckRuns_LinksToTheRunsRunningSinceBeforeTheWindow()
    {
        var viewer = Factory.Bearer("alpha", Roles.Viewer);
        var id = (await Ingest().CreateRunAsync(new { workflowName = "wf-stuck", status = "running" })).GetProperty("id").GetString()!;
        Factory.Clock.Advance(TimeSpan.FromMinutes(31));
        await EvaluateAsync();
        var windowStart = (Factory.Clock.GetUtcNow() - TimeSpan.FromMinutes(30)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var link = (await viewer.GetDocumentAsync("/ui/alerts/banner")).QuerySelector(".alert-banner [data-rule='stuck-alpha'] a")!.GetAttribute("href")!;
        var list = await viewer.GetDocumentAsync(link.Replace("/ui/runs?", "/ui/runs/list?", StringComparison.Ordinal));
        await Ingest().PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
        await EvaluateAsync();

        Assert.Equal($"/ui/runs?workflow=wf-stuck&status=running&to={Uri.EscapeDataString(windowStart)}", link);
        Assert.Contains(id, list.QuerySelectorAll("table.runs-table tbody tr").Select(r => r.GetAttribute("data-run-id")));
    }

    /// A cost per day adds up the runs created since the hour 24 hours back (a workflow's rule: since that UTC day
    /// began): the banner's list starts there too (`from`), so it shows the runs whose cost fired it, not older ones.
    [Fact]
    public async Task Banner_CostPerDay_LinksToTheRunsOfTheDayItCounts()
    {
        var viewer = Factory.Bearer("beta", Roles.Viewer);
        var old = (await Ingest("beta").CreateRunAsync(new { workflowName = "wf-cost-link", status = "completed", usage = new { model = "m", costUsd = 2.0 } }))
            .GetProperty("id").GetString()!;
        Factory.Clock.Advance(TimeSpan.FromHours(26));
        var recent = (await Ingest("beta").CreateRunAsync(new { workflowName = "wf-cost-link", status = "completed", usage = new { model = "m", costUsd = 1.5 } }))
            .GetProperty("id").GetString()!;
        await CreateAsync(Ingest("beta"), "wf-cost-scoped", "completed", usage: new { model = "m", costUsd = 0.6 });
        await EvaluateAsync();
        var now = Factory.Clock.GetUtcNow();
        var dayAgo = now.UtcDateTime.AddHours(-24);
        static string At(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var banner = await viewer.GetDocumentAsync("/ui/alerts/banner");
        var link = banner.QuerySelector(".alert-banner [data-rule='cost-beta'] a")!.GetAttribute("href")!;
        var scoped = banner.QuerySelector(".alert-banner [data-rule='cost-beta-wf']")!;
        var list = await viewer.GetDocumentAsync(link.Replace("/ui/runs?", "/ui/runs/list?", StringComparison.Ordinal) + "&workflow=wf-cost-link");
        // Out of every window again, for the other tests of the rules.
        Factory.Clock.Advance(TimeSpan.FromHours(49));
        await EvaluateAsync();

        Assert.Equal($"/ui/runs?from={Uri.EscapeDataString(At(dayAgo.Date.AddHours(dayAgo.Hour)))}", link);
        Assert.Equal($"/ui/runs?workflow=wf-cost-scoped&from={Uri.EscapeDataString(At(dayAgo.Date))}", scoped.QuerySelector("a")!.GetAttribute("href"));
        Assert.Contains("since yesterday 00:00 UTC", scoped.TextContent, StringComparison.Ordinal);
        var shown = list.QuerySelectorAll("table.runs-table tbody tr").Select(r => r.GetAttribute("data-run-id")).ToList();
        Assert.Contains(recent, shown);
        Assert.DoesNotContain(old, shown);
    }

    [Theory]
    [InlineData("/api/alerts?tenant=beta", "tenant")]
    [InlineData("/api/alerts?state=firing", "state")]
    public async Task ApiAlerts_BadParameter_400(string url, string name)
    {
        var response = await Factory.Bearer("alpha", Roles.Viewer).GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(name, out _));
    }

    [Fact]
    public async Task Banner_WithAParameter_400ErrorFragment()
    {
        var response = await Factory.Bearer("alpha", Roles.Viewer).GetAsync("/ui/alerts/banner?x=1");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("x", (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task AdminPage_ListsTheRulesWithTheirValues_AndTheLatestEvents()
    {
        await EvaluateAsync();

        var page = await Factory.Bearer(KeyedFactory.SuperAdminKey).GetDocumentAsync("/admin");

        var rows = page.QuerySelectorAll("#alert-rules tbody tr");
        Assert.Equal(AlertsFactory.Rules.Count(r => r.Key.EndsWith(":Name", StringComparison.Ordinal)), rows.Length);
        var silence = page.QuerySelector("#alert-rules tr[data-rule='silence-alpha']")!;
        Assert.Equal("silence", silence.Children[1].Text());
        Assert.NotNull(page.QuerySelector("#alert-events tbody tr"));
        // An event's threshold reads as its rule's kind does in the rules table (a rate in per cent, not 0.5).
        foreach (var e in page.QuerySelectorAll("#alert-events tbody tr"))
        {
            var threshold = e.Children[^1].Text();
            var expected = e.GetAttribute("data-rule")!.Split('-')[0] switch
            {
                "fail" => "50%", "stuck" => "1", "queue" => e.GetAttribute("data-rule") == "queue-everyone" ? "100,000" : "3",
                "cost" => e.GetAttribute("data-rule") == "cost-beta" ? "$1.00" : "$0.50", _ => "10 min",
            };
            Assert.Equal(expected, threshold);
        }
    }

    [Theory]
    [InlineData(10, "10 min")]
    [InlineData(59, "59 min")]
    [InlineData(60, "1h")]
    [InlineData(90, "1h 30m")]
    [InlineData(1500, "25h")]
    public void SilenceWindow_ReadsInHoursFromAnHour(double minutes, string shown) =>
        Assert.Equal(shown, RunMonitor.Web.Pages.AlertBannerModel.Amount("silence", minutes));

    [Fact]
    public void Describe_NamesAFailureRatesWindow_AndASilenceJustBroken()
    {
        var rate = new AlertRule("r", AlertKind.FailureRate, 0.5, TimeSpan.FromHours(1), null, "alpha");
        var silence = new AlertRule("s", AlertKind.Silence, 1500, TimeSpan.FromMinutes(1500), null, "alpha");

        Assert.Equal("failure rate 18.6% over the last 1h (threshold 50%)",
            RunMonitor.Web.Pages.AlertBannerModel.Describe(new AlertRuleStatus(rate, AlertState.Ok, 0.186, null)));
        Assert.Equal("a run within the last minute (threshold 25h)",
            RunMonitor.Web.Pages.AlertBannerModel.Describe(new AlertRuleStatus(silence, AlertState.Ok, 0, null)));
        Assert.Equal("no run for 2h 5m (threshold 25h)",
            RunMonitor.Web.Pages.AlertBannerModel.Describe(new AlertRuleStatus(silence, AlertState.Ok, 125, null)));
    }

    private static string Sign(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    [Fact]
    public async Task Events_AreSentAsSignedWebhooks_ToTheReceiversOfTheRulesTenant_Retried()
    {
        await CreateAsync(Ingest("beta"), "wf-cost-hook", "completed", usage: new { model = "m", costUsd = 7.5 });
        var recorded = await EvaluateAsync();
        var firing = recorded.Single(e => e.Rule == "cost-beta" && e.State == "firing");

        // The receiver refuses each delivery's first attempt; the retry comes after the back-off.
        var until = DateTime.UtcNow.AddSeconds(30);
        List<(string Body, string? Signature, string? Event)> received;
        do
        {
            Factory.Clock.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(200);
            received = fixture.Receiver.Received.Where(r => r.Body.Contains("\"cost-beta\"") && r.Body.Contains($"\"id\":{firing.Id},")).ToList();
        }
        while (received.Count < 4 && DateTime.UtcNow < until);

        // Two receivers (every tenant's, and beta's), each tried twice.
        Assert.Equal(4, received.Count);
        Assert.All(received, r => Assert.Equal("alert.firing", r.Event));
        Assert.Equal(2, received.Count(r => r.Signature == Sign(AlertsFactory.Secret, r.Body)));
        Assert.Equal(2, received.Count(r => r.Signature == Sign(AlertsFactory.BetaSecret, r.Body)));
        using var doc = JsonDocument.Parse(received[0].Body);
        Assert.Equal("alert.firing", doc.RootElement.GetProperty("event").GetString());
        var alert = doc.RootElement.GetProperty("alert");
        Assert.Equal("cost-beta", alert.GetProperty("rule").GetString());
        Assert.Equal("costPerDay", alert.GetProperty("kind").GetString());
        Assert.Equal("firing", alert.GetProperty("state").GetString());
        Assert.Equal("beta", alert.GetProperty("tenant").GetString());
        Assert.Equal(1.0, alert.GetProperty("threshold").GetDouble());
        Assert.True(alert.GetProperty("value").GetDouble() >= 7.5);
        // An alpha rule's event goes to the every-tenant receiver only.
        Assert.DoesNotContain(fixture.Receiver.Received, r => r.Body.Contains("-alpha\"") && r.Signature == Sign(AlertsFactory.BetaSecret, r.Body));
    }
}

public sealed class AlertsTestsOnPostgres(PostgresAlertsFixture fixture) : AlertsTests(fixture), IClassFixture<PostgresAlertsFixture>;
