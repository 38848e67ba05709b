using System.Text.Json.Nodes;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Api;

/// The app with Zos's own Story 5.8 sample runs reported as Zos stores them: each a `layer_runs` record as its
/// pydantic `LayerRun` dumps it (`model_dump(mode="json")`: snake_case columns, metrics and usage flat on the run,
/// microseconds), posted as it is. Five runs over six days, one partial with a target's error, one failed with an
/// error whose topic and node are null.
public class ZosFactory : RunMonitorFactory, IAsyncLifetime
{
    public ZosFactory() : this(TestStore.Sqlite) { }

    protected ZosFactory(TestStore store) : base(store) { }

    public Dictionary<string, string> Ids { get; } = new();

    public async Task InitializeAsync()
    {
        var client = CreateClient();
        var now = Clock.GetUtcNow();
        async Task Add(string key, string layer, string hash, DateTimeOffset started, DateTimeOffset completed, string status,
            (int Matched, int Processed, int Skipped, int Insights) targets, string profile, (string Provider, string Model, int In, int Out, double Cost)? usage,
            object[]? errors)
        {
            var id = $"zos-{key}";
            await client.CreateRunAsync(new Dictionary<string, object?>
            {
                ["id"] = id, ["layer_name"] = layer, ["layer_hash"] = hash,
                ["started_at"] = ZosTime(started), ["completed_at"] = ZosTime(completed), ["status"] = status,
                ["targets_matched"] = targets.Matched, ["targets_processed"] = targets.Processed, ["targets_skipped"] = targets.Skipped,
                ["insights_created"] = targets.Insights,
                ["model_profile"] = profile, ["model_provider"] = usage?.Provider, ["model_name"] = usage?.Model,
                ["tokens_input"] = usage?.In, ["tokens_output"] = usage?.Out, ["tokens_total"] = usage is { } u ? u.In + u.Out : null,
                ["estimated_cost_usd"] = usage?.Cost, ["errors"] = errors,
            });
            Ids[key] = id;
        }
        await Add("success", "nightly-user-reflection", "abc123", now.AddHours(-2), now.AddHours(-2).AddMinutes(3), "success",
            (10, 10, 0, 8), "moderate", ("anthropic", "claude-sonnet-4-20250514", 10000, 5000, 0.045), null);
        await Add("partial", "nightly-user-reflection", "abc123", now.AddDays(-1).AddHours(-2), now.AddDays(-1).AddHours(-2).AddMinutes(5), "partial",
            (10, 8, 2, 6), "moderate", ("anthropic", "claude-sonnet-4-20250514", 8000, 4000, 0.036),
            [new { topic = "server:123:user:456", error = "Timeout", node = "llm_call" }]);
        await Add("weekly", "weekly-self-reflection", "def456", now.AddDays(-3), now.AddDays(-3).AddMinutes(5), "success",
            (1, 1, 0, 1), "complex", ("anthropic", "claude-opus-4-20250514", 5000, 2000, 0.15), null);
        await Add("dry", "nightly-user-reflection", "abc123", now.AddDays(-5), now.AddDays(-5).AddMinutes(1), "dry",
            (5, 5, 0, 0), "moderate", null, null);
        await Add("failed", "nightly-user-reflection", "abc123", now.AddDays(-6), now.AddDays(-6).AddSeconds(30), "failed",
            (10, 0, 10, 0), "moderate", null,
            [new { topic = (string?)null, error = "Database connection failed", node = (string?)null }]);
    }

    /// A time as pydantic writes an aware UTC datetime: microseconds, and `Z`.
    public static string ZosTime(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}

public sealed class ZosPostgresFactory() : ZosFactory(TestStore.Postgres);

/// Zos's suite for the runs UI (tests/test_ui_runs.py), its five sample runs ingested as they are.
public class ZosRecordsTests(ZosFactory factory) : IClassFixture<ZosFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Ingest_ErrorWithNullTopicAndNode_StoredAsNull()
    {
        var run = await _client.GetJsonAsync($"/api/runs/{factory.Ids["failed"]}");

        var error = run["errors"]!.AsArray().Single()!;
        Assert.Null(error["topic"]);
        Assert.Null(error["node"]);
        Assert.Equal("Database connection failed", (string?)error["error"]);
    }

    [Theory]
    [InlineData("/ui/runs/{0}", ".modal-content .errors-list")]
    [InlineData("/runs/{0}", ".run-errors .errors-list")]
    public async Task View_ErrorWithoutTopic_ShowsMessageOnly(string url, string list)
    {
        var doc = await _client.GetDocumentAsync(string.Format(url, factory.Ids["failed"]));

        var item = doc.QuerySelector($"{list} .error-item")!;
        Assert.Equal("Database connection failed", item.QuerySelector(".error-message").Text());
        Assert.Null(item.QuerySelector(".error-topic"));
        Assert.Null(item.QuerySelector(".error-node"));
        Assert.Equal("Database connection failed", item.TextContent.Trim());
    }

    [Fact]
    public async Task Modal_PartialRun_ShowsTopicErrorAndNode()
    {
        var doc = await _client.GetDocumentAsync($"/ui/runs/{factory.Ids["partial"]}");

        var item = doc.QuerySelector(".errors-list .error-item")!;
        Assert.Equal("server:123:user:456", item.QuerySelector(".error-topic").Text());
        Assert.Equal("Timeout", item.QuerySelector(".error-message").Text());
        Assert.Equal("Node: llm_call", item.QuerySelector(".error-node").Text());
    }

    [Fact]
    public async Task Modal_SuccessfulRun_ShowsMetricsUsageAndHashWithoutErrors()
    {
        var doc = await _client.GetDocumentAsync($"/ui/runs/{factory.Ids["success"]}");

        Assert.NotNull(doc.QuerySelector(".modal-content .modal-header .close-btn"));
        Assert.Equal("nightly-user-reflection", doc.QuerySelector(".modal-header h2").Text());
        Assert.NotNull(doc.QuerySelector(".run-status span.badge.badge-completed.badge-large"));
        var metrics = Metrics(doc);
        Assert.Equal("3m 0s", metrics["Duration"]);
        Assert.Equal("10", metrics["Targets matched"]);
        Assert.Equal("8", metrics["Insights created"]);
        Assert.Equal("moderate", metrics["Profile"]);
        Assert.Equal("anthropic", metrics["Provider"]);
        Assert.Equal("10,000", metrics["Input tokens"]);
        Assert.Equal("$0.0450", metrics["Estimated cost"]);
        Assert.Empty(doc.QuerySelectorAll(".error-item"));
        Assert.DoesNotContain("Errors (", doc.Body!.TextContent);
        Assert.Equal("Layer hash: abc123", doc.QuerySelector(".modal-footer .text-muted").Text().Squash());
    }

    [Fact]
    public async Task Modal_DryRunWithoutUsage_ShowsDashes()
    {
        var doc = await _client.GetDocumentAsync($"/ui/runs/{factory.Ids["dry"]}");

        var metrics = Metrics(doc);
        string[] shown = ["Provider", "Model", "Input tokens", "Estimated cost", "Duration"];
        Assert.Equal(["—", "—", "—", "—", "1m 0s"], shown.Select(label => metrics[label]));
    }

    [Fact]
    public async Task List_FailedRun_ThirtySecondsAndDashCost()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/list?status=failed");

        Assert.Equal("1-1 of 1", doc.QuerySelector(".page-info").Text());
        var row = doc.QuerySelector($"table.runs-table tbody tr[data-run-id='{factory.Ids["failed"]}']")!;
        Assert.NotNull(row.QuerySelector("span.badge.badge-failed"));
        var cells = row.QuerySelectorAll("td.num").Select(c => c.Text()).ToList();
        Assert.Contains("30.0s", cells);
        Assert.Contains("—", cells);
    }

    [Fact]
    public async Task List_FilterByLayer_OneWeeklyRun()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=weekly-self-reflection");

        Assert.Equal("1-1 of 1", doc.QuerySelector(".page-info").Text());
        Assert.Equal(factory.Ids["weekly"], doc.QuerySelector("table.runs-table tbody tr")!.GetAttribute("data-run-id"));
    }

    [Fact]
    public async Task Stats_FiveSampleRuns_CountedAsZosCountsThem()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/stats");

        var cards = doc.QuerySelectorAll(".stat-card").ToDictionary(c => c.QuerySelector(".stat-label").Text(), c => c.QuerySelector(".stat-value").Text());
        string[] labels = ["Total Runs (7d)", "Successful", "Failed", "Dry Runs", "Insights Created", "Est. Cost"];
        Assert.Equal(["5", "2", "1", "1", "15", "$0.23"], labels.Select(label => cards[label]));
    }

    [Fact]
    public async Task Recent_SampleRuns_CompactListWithBadgesAndRelativeTimes()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/recent");

        var items = doc.QuerySelectorAll("ul.runs-list-compact > li").ToList();
        Assert.Equal(5, items.Count);
        Assert.All(items, li => Assert.NotNull(li.QuerySelector("span.badge")));
        Assert.Contains("nightly-user-reflection", items[0].TextContent);
        Assert.Equal("2 hours ago", items[0].QuerySelector("time").Text());
        Assert.Null(doc.QuerySelector(".empty-state"));
    }

    [Theory]
    [InlineData(30_000L, "30.0s")]
    [InlineData(59_500L, "59.5s")]
    [InlineData(60_000L, "1m 0s")]
    [InlineData(90_000L, "1m 30s")]
    [InlineData(150_000L, "2m 30s")]
    [InlineData(null, "—")]
    public void Format_Duration_AsZosFormatsIt(long? ms, string expected) => Assert.Equal(expected, Format.Duration(ms));

    [Theory]
    [InlineData(0.045, "$0.0450")]
    [InlineData(1.5, "$1.5000")]
    [InlineData(null, "—")]
    public void Format_Cost_AsZosFormatsIt(double? usd, string expected) => Assert.Equal(expected, Format.Cost(usd));

    [Theory]
    [InlineData(1000L, "1,000")]
    [InlineData(1000000L, "1,000,000")]
    [InlineData(null, "—")]
    public void Format_Count_AsZosFormatsIt(long? n, string expected) => Assert.Equal(expected, Format.Count(n));

    private static Dictionary<string, string> Metrics(AngleSharp.Dom.IDocument doc) =>
        doc.QuerySelectorAll(".metric-row").ToDictionary(r => r.QuerySelector(".metric-label").Text(), r => r.Children.Last().Text());
}

public sealed class ZosRecordsTestsOnPostgres(ZosPostgresFactory factory) : ZosRecordsTests(factory), IClassFixture<ZosPostgresFactory>;

/// Zos's empty-store cases: before any run, the recent card says so and the stats read zero.
public class ZosEmptyStoreTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Recent_EmptyStore_SaysNoRunsYet()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/recent");

        Assert.Equal("No runs yet", doc.QuerySelector(".recent-runs .empty-state").Text());
        Assert.Null(doc.QuerySelector(".runs-list-compact"));
    }

    [Fact]
    public async Task Stats_EmptyStore_ZeroTotalInAFragment()
    {
        var raw = await _client.GetStringAsync("/ui/runs/stats");
        var doc = await _client.GetDocumentAsync("/ui/runs/stats");

        var total = doc.QuerySelectorAll(".stat-card").Single(c => c.QuerySelector(".stat-label").Text() == "Total Runs (7d)");
        Assert.Equal("0", total.QuerySelector(".stat-value").Text());
        Assert.DoesNotContain("<html", raw);
    }

    [Fact]
    public async Task List_EmptyStore_NoRunsFound()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/list");

        Assert.Equal("No runs found.", doc.QuerySelector(".empty-state").Text());
    }
}
