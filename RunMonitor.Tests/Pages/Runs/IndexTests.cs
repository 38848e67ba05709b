using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Pages.Runs;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Pages.Runs;

/// The story's six cases and the rest of the runs page contract, through HTTP and CSS selectors.
public class IndexTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient(new() { AllowAutoRedirect = false });
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private Task<System.Text.Json.JsonElement> Run(string workflow, string status, object? extra = null, DateTimeOffset? created = null, string? tenant = null, string? name = null)
    {
        var at = created ?? Now.AddHours(-1);
        var body = new Dictionary<string, object?>
        {
            ["workflowName"] = workflow, ["status"] = status, ["name"] = name, ["tenantId"] = tenant,
            ["createdAt"] = at.ToString("O"),
            ["startedAt"] = status == "queued" ? null : at.AddSeconds(1).ToString("O"),
            ["completedAt"] = status is "queued" or "running" ? null : at.AddSeconds(1).AddMilliseconds(12_300).ToString("O"),
        };
        if (extra is not null)
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        return _client.CreateRunAsync(body.Where(kv => kv.Value is not null).ToDictionary());
    }

    [Fact]
    public async Task Store_FilterChoices_AreTheTenantsWorkflowsAndForSuperAdminsTheTenants()
    {
        await Run("choices-wf-a", "completed", tenant: "choices-one");
        await Run("choices-wf-b", "failed", tenant: "choices-two");
        var store = factory.Services.GetRequiredService<RunList>();

        var one = await store.FilterChoicesAsync("choices-one", withTenants: false);
        var all = await store.FilterChoicesAsync(null, withTenants: true);
        var oneAsSuperAdmin = await store.FilterChoicesAsync("choices-one", withTenants: true);

        Assert.Equal(["choices-wf-a"], one.Workflows);
        Assert.Empty(one.Tenants);
        Assert.Equal(await store.WorkflowsAsync(null), all.Workflows);
        Assert.Contains("choices-wf-b", all.Workflows);
        Assert.Equal(await store.TenantsAsync(), all.Tenants);
        Assert.Contains("choices-two", all.Tenants);
        Assert.Equal(["choices-wf-a"], oneAsSuperAdmin.Workflows);
        Assert.Equal(all.Tenants, oneAsSuperAdmin.Tenants);
    }

    [Fact]
    public async Task List_RowLinks_AreWhatRoutingGeneratesForEveryCharacterAnIdMayHold()
    {
        string[] ids = ["links:a.b-c_d", "LINKS9:x:y", "links.0-_", "links odd+é/(1)"];
        foreach (var id in ids[..^1]) await Run("links-wf", "failed", new { id });
        // Older stores may hold an id ingest's pattern refuses now: routing escapes that one itself.
        var at = Now.AddHours(-1).ToString("O");
        await factory.InsertRunAsync(new RunRow { Id = ids[^1], TenantId = "default", WorkflowName = "links-wf", Status = "failed", CreatedAt = at, UpdatedAt = at });
        var routing = factory.Services.GetRequiredService<LinkGenerator>();

        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=links-wf");

        // Each row's URL also carries the list it is in (`?list=…&at=…`, issue 19); the path is what routing made.
        var rows = doc.QuerySelectorAll("table.runs-table tbody tr").ToDictionary(tr => tr.GetAttribute("data-run-id")!, tr => tr.GetAttribute("data-modal-url")!.Split('?')[0]);
        Assert.Equal(ids.Order(), rows.Keys.Order());
        foreach (var id in ids) Assert.Equal(routing.GetPathByPage("/Runs/Modal", values: new { id }), rows[id]);
        Assert.Equal("/ui/runs/links%3Aa.b-c_d", rows["links:a.b-c_d"]);
    }

    [Fact]
    public async Task Page_Layout_LinksEveryScriptWithItsContentVersion()
    {
        var versions = factory.Services.GetRequiredService<Microsoft.AspNetCore.Mvc.ViewFeatures.IFileVersionProvider>();
        string[] scripts = ["/lib/runmonitor/runmonitor.js", "/lib/htmx/htmx.min.js", "/lib/htmx-ext-sse/sse.min.js"];

        var doc = await _client.GetDocumentAsync("/ui/runs");

        Assert.Equal(scripts.Select(p => versions.AddFileVersionToPath(Microsoft.AspNetCore.Http.PathString.Empty, p)),
            doc.QuerySelectorAll("head script[defer]").Select(l => l.GetAttribute("src")));
        Assert.All(doc.QuerySelectorAll("head script"), e => Assert.Contains("?v=", e.GetAttribute("src")));
    }

    [Fact]
    public async Task Page_Head_CarriesTheStyleBundleInlineAllowedByItsHashOnly()
    {
        var served = await _client.GetStringAsync("/lib/runmonitor/runmonitor.css");

        var response = await _client.GetAsync("/ui/runs");
        var doc = await Html.ParseAsync(response);

        Assert.Empty(doc.QuerySelectorAll("link[rel=stylesheet]"));
        var style = Assert.Single(doc.QuerySelectorAll("style"));
        Assert.Equal("HEAD", style.ParentElement!.TagName);
        static string Words(string css) => string.Concat(System.Text.RegularExpressions.Regex.Replace(css, @"/\*.*?\*/", "",
            System.Text.RegularExpressions.RegexOptions.Singleline).Where(c => !char.IsWhiteSpace(c)));
        Assert.Equal(Words(served), Words(style.TextContent));
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(style.TextContent)));
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains($"style-src 'self' 'sha256-{hash}';", csp);
    }

    [Fact]
    public async Task Bundles_HoldEverySourceFileInOrder()
    {
        var web = Path.Combine(factory.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.IWebHostEnvironment>().WebRootPath);
        static string Squeeze(string text) => string.Concat(text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

        foreach (var (bundle, sources) in new[]
        {
            ("/lib/runmonitor/runmonitor.css", BundleSources.Css),
            ("/lib/runmonitor/runmonitor.js", BundleSources.Js),
        })
        {
            var served = await _client.GetStringAsync(bundle);
            Assert.Equal(string.Concat(sources.Select(s => Squeeze(File.ReadAllText(Path.Combine(web, s))))), Squeeze(served));
        }
    }

    [Fact]
    public async Task Stats_SevenDays_CountsEachCard()
    {
        var t = "stats-tenant";
        await Run("wf", "completed", new { metrics = new { insightsCreated = 4 }, usage = new { costUsd = 1.006 } }, tenant: t);
        await Run("wf", "success", new { metrics = new { insightsCreated = 6 }, usage = new { costUsd = 2.0 } }, tenant: t);
        await Run("wf", "failed", tenant: t);
        await Run("wf", "dry", tenant: t);
        await Run("wf", "partial", tenant: t);
        await Run("wf", "queued", tenant: t);
        await Run("wf", "completed", created: Now.AddDays(-8), tenant: t);

        var doc = await _client.GetDocumentAsync($"/ui/runs/stats?tenant={t}");

        string Card(string label) => doc.QuerySelectorAll(".stat-card")
            .Single(c => c.QuerySelector(".stat-label").Text() == label).QuerySelector(".stat-value").Text();
        Assert.Equal("6", Card("Total Runs (7d)"));
        Assert.Equal("2", Card("Successful"));
        Assert.Equal("1", Card("Failed"));
        Assert.Equal("1", Card("Dry Runs"));
        Assert.Equal("10", Card("Insights Created"));
        Assert.Equal("$3.01", Card("Est. Cost"));
        Assert.Equal("1", Card("Queued now"));
        Assert.Matches(@"^oldest waiting \d", doc.QuerySelector(".stat-now .stat-note")!.Text().Trim());
        Assert.Equal("0", Card("Running now"));
    }

    [Fact]
    public async Task Stats_ReadWriteRead_SameInstant_ShowsTheWrite()
    {
        const string t = "stats-fresh";
        await Run("wf", "completed", tenant: t);
        async Task<string> Total() => (await _client.GetDocumentAsync($"/ui/runs/stats?tenant={t}")).QuerySelector(".stat-card .stat-value").Text();

        var before = await Total();
        await Run("wf", "failed", tenant: t);
        var after = await Total();

        Assert.Equal("1", before);
        Assert.Equal("2", after);
    }

    [Fact]
    public async Task Stats_Period24h_ExcludesOlderRuns()
    {
        var t = "stats-day";
        await Run("wf", "completed", tenant: t);
        await Run("wf", "completed", created: Now.AddDays(-2), tenant: t);

        var doc = await _client.GetDocumentAsync($"/ui/runs/stats?period=24h&tenant={t}");

        var total = doc.QuerySelectorAll(".stat-card").First();
        Assert.Equal("Total Runs (24h)", total.QuerySelector(".stat-label").Text());
        Assert.Equal("1", total.QuerySelector(".stat-value").Text());
    }

    [Fact]
    public async Task Stats_Periods_CountWholeUtcHoursAndCalendarDays_TheCurrentOneIncluded()
    {
        // Now is 2026-11-21 12:00 UTC: 24h counts from 13:00 yesterday, 7d from Nov 15, 30d from Oct 23. Each run
        // before a boundary is inside the rolling window of the same length (now - 24 h, now - 7 d, now - 30 d).
        var t = "stats-window";
        DateTimeOffset At(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);
        foreach (var created in new[] { At(11, 20, 12, 59), At(11, 20, 13), At(11, 14, 23, 59), At(11, 15, 0), At(10, 22, 23), At(10, 23, 0) })
            await Run("wf", "completed", created: created, tenant: t);

        async Task<(string Label, string Total, string Window)> Cards(string period)
        {
            var doc = await _client.GetDocumentAsync($"/ui/runs/stats?tenant={t}&period={period}");
            var total = doc.QuerySelector("#run-stats .stat-card")!;
            return (total.QuerySelector(".stat-label").Text(), total.QuerySelector(".stat-value").Text(), doc.QuerySelector("#run-stats .stats-window").Text());
        }

        Assert.Equal(("Total Runs (24h)", "1", "24 clock hours (UTC): 13:00 yesterday – now"), await Cards("24h"));
        Assert.Equal(("Total Runs (7d)", "3", "7 calendar days (UTC): Nov 15 – today"), await Cards("7d"));
        Assert.Equal(("Total Runs (30d)", "5", "30 calendar days (UTC): Oct 23 – today"), await Cards("30d"));
    }

    [Fact]
    public async Task Stats_FailureRate_FailedOfTheFinished_CancelledAndDryRunsLeftOut()
    {
        var t = "stats-rate";
        foreach (var status in new[] { "completed", "completed", "partial", "failed", "cancelled", "cancelled", "dry", "running" })
            await Run("wf", status, tenant: t);

        var doc = await _client.GetDocumentAsync($"/ui/runs/stats?tenant={t}");
        var none = await _client.GetDocumentAsync("/ui/runs/stats?tenant=stats-rate-none");

        var card = doc.QuerySelectorAll(".stat-card").Single(c => c.QuerySelector(".stat-label").Text() == "Failure Rate");
        Assert.Equal("25.0%", card.QuerySelector(".stat-value").Text());   // 1 failed of 4 finished (completed, partial, failed)
        Assert.Equal("of 4 finished", card.QuerySelector(".stat-note").Text());
        var empty = none.QuerySelectorAll(".stat-card").Single(c => c.QuerySelector(".stat-label").Text() == "Failure Rate");
        Assert.Equal("—", empty.QuerySelector(".stat-value").Text());
        // The story's markup, the new card too: a value, then its label.
        Assert.All(doc.QuerySelectorAll(".stat-card"), c => Assert.Equal(["stat-value", "stat-label"], c.Children.Take(2).Select(e => e.ClassList[0])));
    }

    [Fact]
    public async Task Page_PeriodSwitch_PlainLinksKeepingTheListView_TheCurrentOneMarked()
    {
        await Run("switch-wf", "failed");

        var response = await _client.GetAsync("/ui/runs?layer_name=switch-wf&status=failed&period=24h");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        var links = doc.QuerySelectorAll("#run-stats nav.period-switch a");
        const string view = "/ui/runs?layer_name=switch-wf&status=failed";
        Assert.Equal(["24 hours", "7 days", "30 days"], links.Select(a => a.Text()));
        Assert.Equal([view + "&period=24h", view, view + "&period=30d"], links.Select(a => a.GetAttribute("href")));
        Assert.Equal(["page", null, null], links.Select(a => a.GetAttribute("aria-current")));
        // With htmx a link swaps the cards alone and puts the page's address in history.
        Assert.Equal(["/ui/runs/stats?period=24h", "/ui/runs/stats", "/ui/runs/stats?period=30d"], links.Select(a => a.GetAttribute("hx-get")));
        Assert.All(links, a => Assert.Equal(("#run-stats", "outerHTML", a.GetAttribute("href")), (a.GetAttribute("hx-target"), a.GetAttribute("hx-swap"), a.GetAttribute("hx-push-url"))));
        Assert.Equal("Total Runs (24h)", doc.QuerySelector("#run-stats .stat-card .stat-label").Text());
        // The filter form sends the period along (its field is swapped with the cards), and the list's links keep it.
        Assert.Equal("24h", doc.QuerySelector("#run-stats input[type=hidden][name=period][form=run-filters]")?.GetAttribute("value"));
        var sorts = doc.QuerySelectorAll("#runs-list table.runs-table th.sortable a");
        Assert.NotEmpty(sorts);
        Assert.All(sorts, a => Assert.EndsWith("&period=24h", a.GetAttribute("href")));
        Assert.All(sorts, a => Assert.EndsWith("&period=24h", a.GetAttribute("hx-push-url")));
    }

    [Theory]
    [InlineData("period=1y")]
    [InlineData("period=")]
    [InlineData("period=24h&period=7d")]
    public async Task Page_BadPeriod_Answers400NamingPeriod_TheListStillShown(string query)
    {
        await Run("bad-period-wf", "completed");

        var response = await _client.GetAsync("/ui/runs?layer_name=bad-period-wf&" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        Assert.Equal("period", doc.QuerySelector("#run-stats p.error")?.GetAttribute("data-parameter"));
        Assert.Equal("period accepts 24h, 7d or 30d (default 7d)", doc.QuerySelector("#run-stats p.error").Text());
        Assert.Equal("Total Runs (7d)", doc.QuerySelector("#run-stats .stat-card .stat-label").Text());
        Assert.NotEmpty(doc.QuerySelectorAll("#runs-list table.runs-table tbody tr"));
    }

    [Fact]
    public async Task List_Period_NeitherRefusedNorRequired_KeptInItsLinksAndThePushedAddress()
    {
        await Run("list-period-wf", "completed");
        var fromForm = new HttpRequestMessage(HttpMethod.Get, "/ui/runs/list?layer_name=list-period-wf&status=completed&period=24h");
        fromForm.Headers.Add("HX-Request", "true");
        fromForm.Headers.Add("HX-Trigger", "run-filters");

        var with = await _client.GetAsync("/ui/runs/list?layer_name=list-period-wf&period=30d");
        var without = await _client.GetAsync("/ui/runs/list?layer_name=list-period-wf");
        var bad = await _client.GetAsync("/ui/runs/list?layer_name=list-period-wf&period=1y");
        var pushed = await _client.SendAsync(fromForm);

        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal(HttpStatusCode.OK, without.StatusCode);
        var withLinks = (await Html.ParseAsync(with)).QuerySelectorAll("table.runs-table th.sortable a");
        var withoutLinks = (await Html.ParseAsync(without)).QuerySelectorAll("table.runs-table th.sortable a");
        Assert.NotEmpty(withLinks);
        Assert.All(withLinks, a => Assert.EndsWith("&period=30d", a.GetAttribute("href")));
        Assert.All(withLinks, a => Assert.Contains("period=30d", a.GetAttribute("hx-get")));
        Assert.NotEmpty(withoutLinks);
        Assert.All(withoutLinks, a => Assert.DoesNotContain("period=", a.GetAttribute("href")));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("period", (await Html.ParseAsync(bad)).QuerySelector("p.error")?.GetAttribute("data-parameter"));
        Assert.Equal("/ui/runs?layer_name=list-period-wf&status=completed&period=24h", pushed.Headers.GetValues("HX-Push-Url").Single());
    }

    [Fact]
    public async Task List_FilterByLayer_ShowsOnlyThatWorkflow()
    {
        await Run("layer-a", "completed");
        await Run("layer-a", "failed");
        await Run("layer-b", "completed");

        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=layer-a");
        var alias = await _client.GetDocumentAsync("/ui/runs/list?workflow=layer-a");

        var rows = doc.QuerySelectorAll("table.runs-table tbody tr");
        Assert.Equal(2, rows.Length);
        Assert.All(rows, r => Assert.Equal("layer-a", r.QuerySelector("td.workflow").Text()));
        Assert.Equal(2, alias.QuerySelectorAll("table.runs-table tbody tr").Length);
    }

    [Fact]
    public async Task List_FilterByStatus_SingleCommaListAndSuccessAlias()
    {
        await Run("status-wf", "completed");
        await Run("status-wf", "failed");
        await Run("status-wf", "partial");
        await Run("status-wf", "running");

        async Task<string[]> Statuses(string query) =>
            (await _client.GetDocumentAsync("/ui/runs/list?layer_name=status-wf&" + query))
            .QuerySelectorAll("table.runs-table tbody tr span.badge").Select(b => b.Text()).Order().ToArray();

        Assert.Equal(["failed"], await Statuses("status=failed"));
        Assert.Equal(["failed", "partial"], await Statuses("status=failed,partial"));
        Assert.Equal(["completed"], await Statuses("status=success"));
        Assert.Equal(["completed", "failed", "partial", "running"], await Statuses("status="));
    }

    [Fact]
    public async Task Modal_Detail_ShowsAllFields()
    {
        var run = await Run("nightly-user-reflection", "completed", new
        {
            layerHash = "abc123def456",
            metrics = new { targetsMatched = 120, targetsProcessed = 115, targetsSkipped = 5, insightsCreated = 87 },
            usage = new { profile = "reflection-default", provider = "anthropic", model = "claude-sonnet-4-5", tokensInput = 123456, tokensOutput = 7890, costUsd = 0.0123 },
        });
        var id = run.GetProperty("id").GetString();

        var doc = await _client.GetDocumentAsync($"/ui/runs/{id}");

        var content = doc.QuerySelector(".modal-content");
        Assert.NotNull(content);
        Assert.Equal("nightly-user-reflection", content.QuerySelector(".modal-header h2").Text());
        Assert.NotNull(content.QuerySelector(".close-btn"));
        Assert.Equal("completed", content.QuerySelector(".run-status span.badge.badge-completed").Text());
        string Metric(string label) => content.QuerySelectorAll(".metric-row")
            .Single(r => r.QuerySelector(".metric-label").Text() == label).Children.Last().Text().Squash();
        Assert.Equal("12.3s", Metric("Duration"));
        Assert.Equal("120", Metric("Targets matched"));
        Assert.Equal("115", Metric("Targets processed"));
        Assert.Equal("5", Metric("Targets skipped"));
        Assert.Equal("87", Metric("Insights created"));
        Assert.Equal("reflection-default", Metric("Profile"));
        Assert.Equal("anthropic", Metric("Provider"));
        Assert.Equal("claude-sonnet-4-5", Metric("Model"));
        Assert.Equal("123,456", Metric("Input tokens"));
        Assert.Equal("7,890", Metric("Output tokens"));
        Assert.Equal("$0.0123", Metric("Estimated cost"));
        Assert.Contains("abc123def456", content.QuerySelector(".modal-footer").Text());
        Assert.Contains("text-error", content.QuerySelectorAll(".metric-row").Single(r => r.QuerySelector(".metric-label").Text() == "Targets skipped").Children.Last().ClassList);
    }

    /// The modal's labels and headings are in sentence case, as the run page's are ("Targets matched", "Model usage"),
    /// not Title Case.
    [Fact]
    public async Task Modal_LabelsAndHeadings_SentenceCaseAsOnTheRunPage()
    {
        var run = await Run("modal-case", "failed", new
        {
            error = new { message = "Boom", type = "ValueError" },
            errors = new[] { new { topic = "user:1", error = "quota exceeded", node = "reflect" } },
            metrics = new { targetsMatched = 3, targetsProcessed = 2, targetsSkipped = 1, insightsCreated = 1 },
            usage = new { profile = "p", provider = "openai", model = "gpt-4o-mini", tokensInput = 10, tokensOutput = 5 },
        });

        var content = (await _client.GetDocumentAsync($"/ui/runs/{run.GetProperty("id").GetString()}")).QuerySelector(".modal-content")!;

        var labels = content.QuerySelectorAll(".metric-label, h3").Select(e => e.Text().Squash()).ToList();
        Assert.Contains("Targets matched", labels);
        Assert.Contains("Model usage", labels);
        var titleCase = labels.Where(l => l.Split(' ').Skip(1).Any(word => word.Length > 0 && char.IsUpper(word[0]))).ToList();
        Assert.True(titleCase.Count == 0, "Title Case: " + string.Join(", ", titleCase));
    }

    [Fact]
    public async Task Modal_FailedRunWithoutUsage_RunErrorBeforeTheFacts_NoEmptyUsageBlock_StartRelative()
    {
        var run = await Run("modal-order", "failed", new { error = new { message = "Model call timed out", type = "TimeoutError", stack = "at a()\n  at b()" } });

        var doc = await _client.GetDocumentAsync($"/ui/runs/{run.GetProperty("id").GetString()}");

        var content = doc.QuerySelector(".modal-content")!;
        var all = content.QuerySelectorAll("*").ToList();
        var error = content.QuerySelector(".run-error")!;
        Assert.Equal("Model call timed out", error.QuerySelector(".run-error-message")!.Text().Trim());
        // The reason it failed comes before the table of facts, as on the run page.
        Assert.True(all.IndexOf(error) < all.IndexOf(content.QuerySelector(".metric-row")!), "the run error comes after the metrics");
        // No model usage at all: no block of six dashes.
        Assert.DoesNotContain(content.QuerySelectorAll("h3"), h => h.Text().Contains("usage", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(content.QuerySelectorAll(".metric-label"), l => l.Text() is "Profile" or "Provider" or "Model" or "Input tokens");
        // The start reads as every other time does (relative words; the Times switch rewrites it), exact UTC in its title.
        var started = content.QuerySelector(".run-status time")!;
        Assert.EndsWith("ago", started.Text());
        Assert.EndsWith("UTC", started.GetAttribute("title"));
    }

    [Fact]
    public async Task Modal_Errors_ListsTopicMessageAndNode()
    {
        var run = await Run("err-wf", "partial", new
        {
            errors = new object[]
            {
                new { topic = "user:4411", error = "Insight rejected by safety filter", node = "reflect" },
                new { topic = "user:1290", error = "Not enough messages" },
            },
            error = new { message = "2 targets failed", type = "PartialFailure", stack = "at a()\n  at b()" },
        });

        var doc = await _client.GetDocumentAsync($"/ui/runs/{run.GetProperty("id").GetString()}");

        var items = doc.QuerySelectorAll(".errors-list .error-item");
        Assert.Equal(2, items.Length);
        Assert.Equal("user:4411", items[0].QuerySelector(".error-topic").Text());
        Assert.Equal("Insight rejected by safety filter", items[0].QuerySelector(".error-message").Text());
        Assert.Equal("Node: reflect", items[0].QuerySelector(".error-node").Text());
        Assert.Null(items[1].QuerySelector(".error-node"));
        Assert.Equal("at a()\n  at b()", doc.QuerySelector("pre.stack-trace")!.TextContent);
        Assert.Contains("Errors (2)", doc.QuerySelectorAll("h3").Select(h => h.Text()));
    }

    [Fact]
    public async Task List_Pagination_PageInfoAndLinksKeepFilters()
    {
        for (var i = 0; i < 45; i++) await Run("paged", i % 2 == 0 ? "completed" : "failed", created: Now.AddMinutes(-i - 1));

        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=paged&offset=20");
        var last = await _client.GetDocumentAsync("/ui/runs/list?layer_name=paged&offset=40");

        Assert.Equal(20, doc.QuerySelectorAll("table.runs-table tbody tr").Length);
        Assert.Equal("21-40 of 45", doc.QuerySelector(".page-info").Text());
        var prev = doc.QuerySelector(".pagination a[rel=prev]")!;
        var next = doc.QuerySelector(".pagination a[rel=next]")!;
        Assert.Equal("/ui/runs?layer_name=paged", prev.GetAttribute("href"));
        Assert.StartsWith("/ui/runs/list?layer_name=paged&offset=40&after=", next.GetAttribute("hx-get"));
        Assert.StartsWith("/ui/runs?layer_name=paged&offset=40&after=", next.GetAttribute("hx-push-url"));
        Assert.Equal("41-45 of 45", last.QuerySelector(".page-info").Text());
        Assert.Null(last.QuerySelector(".pagination a[rel=next]"));
    }

    [Fact]
    public async Task List_PaginationPastAThousand_PageInfoFormatsEveryNumberAsACount()
    {
        // One batch: a thousand creates one by one would be most of this class's time.
        var lines = Enumerable.Range(0, 1_025).Select(i => Now.AddMinutes(-i - 1)).Select(at => System.Text.Json.JsonSerializer.Serialize(new
        {
            type = "run", workflowName = "paged-big", status = "completed",
            createdAt = at.ToString("O"), startedAt = at.AddSeconds(1).ToString("O"), completedAt = at.AddSeconds(2).ToString("O"),
        }));
        var ingest = await _client.PostAsync("/api/ingest", new StringContent(string.Join('\n', lines), System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);

        var fragment = await _client.GetDocumentAsync("/ui/runs/list?layer_name=paged-big&offset=1000");
        var page = await _client.GetDocumentAsync("/ui/runs?layer_name=paged-big&offset=1000");

        Assert.Equal("1,001-1,020 of 1,025", fragment.QuerySelector(".page-info").Text());
        // The status line read out to a screen reader says the same.
        Assert.Equal("Runs 1,001-1,020 of 1,025", page.QuerySelector("#runs-status")!.TextContent.Trim());
    }

    /// An operator triaging failures reads in the list why each run failed (as Hangfire's failed list shows the
    /// exception): under the run's id its error's code and its message's first line, cut short, with the message in
    /// the title; encoded like every other text. The page draws the same table.
    [Fact]
    public async Task List_FailedRun_ShowsItsErrorsFirstLineCutShortWithTheMessageInItsTitle()
    {
        var first = "<b>Model</b> call & timed out after 60s while generating reflections for " + string.Concat(Enumerable.Repeat("every user ", 12));
        var message = first + "\n  at compose (audio.py:88)";
        var failed = (await Run("row-error", "failed", new { error = new { message, type = "TimeoutError", code = "MODEL_TIMEOUT", stack = "at a()" } }))
            .GetProperty("id").GetString();
        var completed = (await Run("row-error", "completed")).GetProperty("id").GetString();

        foreach (var url in new[] { "/ui/runs/list?layer_name=row-error", "/ui/runs?layer_name=row-error" })
        {
            var doc = await _client.GetDocumentAsync(url);

            var error = doc.QuerySelector($"table.runs-table tbody tr[data-run-id='{failed}'] td.run-cell .row-error");
            Assert.NotNull(error);
            Assert.Equal(message, error.GetAttribute("title"));
            Assert.Equal("MODEL_TIMEOUT", error.QuerySelector(".row-error-kind code.error-code").Text());
            Assert.Equal($"MODEL_TIMEOUT {first[..RowError.ShownLength].TrimEnd()}…", error.TextContent);
            Assert.Empty(error.QuerySelectorAll("b"));
            Assert.Null(doc.QuerySelector($"table.runs-table tbody tr[data-run-id='{completed}'] .row-error"));
            Assert.Single(doc.QuerySelectorAll("table.runs-table tbody .row-error"));
            Assert.Equal(2, doc.QuerySelectorAll("table.runs-table tbody tr").Length);
        }
    }

    /// A run that ended unsuccessfully shows its error (a lease that ran out cancels a run with one too), in what parts
    /// it has, its type only without a code; a run that ended well, or runs on, shows none even with an error
    /// reported, nor does an error of blanks. A message's first line is its first line with words.
    [Theory]
    [InlineData("failed", "Boom", null, null, "Boom")]
    [InlineData("partial", "2 targets failed\nuser:1 quota", "PartialFailure", null, "PartialFailure: 2 targets failed")]
    [InlineData("cancelled", "worker lease expired", "LeaseExpired", null, "LeaseExpired: worker lease expired")]
    [InlineData("failed", null, "ValueError", null, "ValueError")]
    [InlineData("failed", "429 Too Many Requests", "zos.llm.errors.RateLimitError", null, "RateLimitError: 429 Too Many Requests")]
    [InlineData("failed", null, null, "STEP_FAILED", "STEP_FAILED")]
    [InlineData("failed", "Boom", "ValueError", "STEP_FAILED", "STEP_FAILED Boom")]
    [InlineData("failed", "\n   \nsecond line first", null, null, "second line first")]
    [InlineData("failed", "😀😀", null, null, "😀😀")]
    [InlineData("completed", "Boom", "ValueError", "E1", null)]
    [InlineData("running", "Boom", "ValueError", "E1", null)]
    [InlineData("failed", " \n ", null, null, null)]
    public async Task List_RowError_ByStatusAndWhatTheErrorHas(string status, string? message, string? type, string? code, string? shown)
    {
        var workflow = $"row-error-{status}-{Guid.NewGuid():N}"[..40];
        var id = (await Run(workflow, status, new { error = new { message, type, code } })).GetProperty("id").GetString();

        var doc = await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}");

        var error = doc.QuerySelector($"table.runs-table tbody tr[data-run-id='{id}'] .row-error");
        Assert.Equal(shown, error?.TextContent.Trim());
        if (error is null) return;
        Assert.Equal(string.IsNullOrWhiteSpace(message) ? null : message, error.GetAttribute("title"));
        // A qualified type is shown by its last name, and whole in its own title.
        Assert.Equal(type?.Contains('.') == true ? type : null, error.QuerySelector(".row-error-type")?.GetAttribute("title"));
    }

    /// A Zos engine reports why a run failed only in its `errors` list, never as the error object: the row then shows
    /// the first listed error (its text's first line, the text in the title) after its topic when it has one, as
    /// omeercs's runs show their message after its code. `/api/runs` still answers no `errorMessage` for it.
    [Theory]
    [InlineData("failed", null, "boom\n  at reflect()", "boom")]
    [InlineData("partial", "server:1:user:2", "LLM timeout", "server:1:user:2 LLM timeout")]
    [InlineData("cancelled", "server:1:user:2", "\n  \nLLM timeout\nretried 3 times", "server:1:user:2 LLM timeout")]
    public async Task List_UnsuccessfulRunWithOnlyAnErrorsList_ShowsItsFirstListedError(string status, string? topic, string text, string shown)
    {
        var workflow = $"row-errors-{status}-{Guid.NewGuid():N}"[..40];
        var errors = new object[] { new { topic, error = text, node = "reflect" }, new { topic = "server:9", error = "second", node = (string?)null } };
        var id = (await Run(workflow, status, new { errors })).GetProperty("id").GetString();

        var doc = await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}");
        var api = await _client.GetJsonAsync($"/api/runs?workflow={workflow}");

        var error = doc.QuerySelector($"table.runs-table tbody tr[data-run-id='{id}'] td.run-cell .row-error");
        Assert.NotNull(error);
        Assert.Equal(shown, error.TextContent.Trim());
        Assert.Equal(text, error.GetAttribute("title"));
        Assert.Equal(topic, error.QuerySelector(".row-error-topic")?.TextContent);
        Assert.Null(error.QuerySelector(".error-code, .row-error-type"));
        Assert.Null((string?)Assert.Single(api["items"]!.AsArray())!["errorMessage"]);
    }

    /// A run with both shows its error object, as before; a run that ended well shows none whatever its errors list
    /// says; a page reads the first listed error of each run whose row needs it, by tenant and id (the same id in
    /// another tenant is another run, with its own errors).
    [Fact]
    public async Task List_ErrorsList_ShownOnlyForUnsuccessfulRunsWithoutAnErrorObjectAndByTenant()
    {
        var workflow = $"row-errors-{Guid.NewGuid():N}"[..30];
        var errors = new[] { new { topic = "server:1", error = "listed", node = "reflect" } };
        var both = (await Run(workflow, "failed", new { error = new { message = "the error object's message" }, errors })).GetProperty("id").GetString();
        var completed = (await Run(workflow, "completed", new { errors })).GetProperty("id").GetString();
        var shared = $"row-errors-{Guid.NewGuid():N}"[..30];
        await Run(workflow, "failed", new { id = shared, errors = new[] { new { topic = "one", error = "tenant one's", node = "a" } } }, tenant: "row-errors-one");
        await Run(workflow, "failed", new { id = shared, errors = new[] { new { topic = "two", error = "tenant two's", node = "b" } } }, tenant: "row-errors-two");

        var doc = await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}");

        Assert.Equal("the error object's message", doc.QuerySelector($"tr[data-run-id='{both}'] .row-error")?.TextContent.Trim());
        Assert.Null(doc.QuerySelector($"tr[data-run-id='{completed}'] .row-error"));
        var byTenant = doc.QuerySelectorAll($"tr[data-run-id='{shared}']")
            .ToDictionary(tr => tr.QuerySelector(".tenant-tag")!.TextContent, tr => tr.QuerySelector(".row-error")?.TextContent.Trim());
        Assert.Equal(new Dictionary<string, string?> { ["row-errors-one"] = "one tenant one's", ["row-errors-two"] = "two tenant two's" }, byTenant);
    }

    /// The table reads as much of a message as it shows (one may be a megabyte): its first RunRows.ListErrorLength
    /// characters and one more, to know it cut, counted as SQL counts them (a pair of UTF-16 units is one); and the
    /// error's code. The row's title marks the cut, its line is cut shorter. `/api/runs` still answers the whole
    /// message, and no error code (its items never carried one).
    [Fact]
    public async Task List_LongMessage_TheTableReadsItsFirstCharactersAndTheApiTheWhole()
    {
        var message = "😀" + new string('x', 3000);
        var id = (await Run("row-error-long", "failed", new { error = new { message, code = "E_LONG" } })).GetProperty("id").GetString();
        var (filter, _) = RunFilter.Parse(new Dictionary<string, string?[]> { ["layer_name"] = ["row-error-long"] }, new RunMonitor.Web.Security.Caller(null, RunMonitor.Web.Security.Roles.Admin));
        var store = factory.Services.GetRequiredService<RunList>();

        var table = Assert.Single((await store.ListAsync(filter!)).Items);
        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=row-error-long");
        var api = await _client.GetJsonAsync("/api/runs?workflow=row-error-long");

        Assert.Equal(message[..(RunRows.ListErrorLength + 2)], table.ErrorMessage);
        Assert.Equal("E_LONG", table.ErrorCode);
        Assert.Equal(message[..(RunRows.ListErrorLength + 1)] + "…", doc.QuerySelector($"tr[data-run-id='{id}'] .row-error")!.GetAttribute("title"));
        Assert.Equal("E_LONG " + message[..(RowError.ShownLength + 1)] + "…", doc.QuerySelector($"tr[data-run-id='{id}'] .row-error")!.TextContent);
        var item = Assert.Single(api["items"]!.AsArray())!;
        Assert.Equal(message, (string?)item["errorMessage"]);
        Assert.Equal("E_LONG", (string?)item["errorCode"]);
    }

    [Fact]
    public async Task List_Formats_CountsCostDurationAndDashes()
    {
        await Run("fmt-full", "completed", new
        {
            metrics = new { targetsProcessed = 12345, targetsSkipped = 3, insightsCreated = 1 },
            usage = new { tokensInput = 1_000_000, tokensOutput = 234_567, costUsd = 12.3456789 },
        });
        await Run("fmt-empty", "queued");

        var full = (await _client.GetDocumentAsync("/ui/runs/list?layer_name=fmt-full")).QuerySelector("table.runs-table tbody tr")!;
        var empty = (await _client.GetDocumentAsync("/ui/runs/list?layer_name=fmt-empty")).QuerySelector("table.runs-table tbody tr")!;

        var cells = full.QuerySelectorAll("td").Select(c => c.Text().Squash()).ToArray();
        Assert.Contains("12,345 (3 skipped)", cells);
        Assert.Contains("1,234,567", cells);
        Assert.Contains("$12.3457", cells);
        Assert.Contains("12.3s", cells);
        var time = full.QuerySelector("td.time time")!;
        Assert.Equal("2026-11-21T11:00:00.000Z", time.GetAttribute("datetime"));
        Assert.Equal("2026-11-21 11:00:00 UTC", time.GetAttribute("title"));
        Assert.Equal("an hour ago", time.Text());
        Assert.Equal(5, empty.QuerySelectorAll("td.num").Count(c => c.Text() == "—"));
    }

    [Theory]
    [InlineData("status=bogus", "status")]
    [InlineData("offset=-1", "offset")]
    [InlineData("offset=abc", "offset")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("sort=name", "sort")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-11-21&to=2026-11-01", "to")]
    [InlineData("tenant=BAD!", "tenant")]
    [InlineData("colour=red", "colour")]
    [InlineData("limit=5&limit=6", "limit")]
    // A space around a number (`+` is one in a query) made it a number (trimmed, as a text filter is).
    [InlineData("limit=%205", "limit")]
    [InlineData("limit=+5", "limit")]
    [InlineData("offset=5%20", "offset")]
    public async Task List_BadParameter_Answers400FragmentNamingIt(string query, string parameter)
    {
        var response = await _client.GetAsync("/ui/runs/list?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        var error = doc.QuerySelector("p.error");
        Assert.NotNull(error);
        Assert.Equal(parameter, error.GetAttribute("data-parameter"));
        Assert.StartsWith(parameter + " ", error.Text());
    }

    [Theory]
    [InlineData("/ui/runs/stats?period=1y", "period")]
    [InlineData("/ui/runs/stats?foo=1", "foo")]
    [InlineData("/ui/runs/stats?period=", "period")]
    [InlineData("/ui/runs/stats?period=24h&period=7d", "period")]
    [InlineData("/ui/runs/stats?tenant=BAD!", "tenant")]
    [InlineData("/ui/runs/stats?tenant=a&tenant=b", "tenant")]
    [InlineData("/ui/runs/recent?limit=3", "limit")]
    public async Task Fragments_BadParameter_Answer400(string url, string parameter)
    {
        var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(response)).QuerySelector("p.error")?.GetAttribute("data-parameter"));
    }

    [Theory]
    [InlineData("/ui/runs/list?limit=500&from=yesterday", new[] { "limit", "from" })]
    [InlineData("/ui/runs/list?sort=name&colour=red&limit=5&limit=6&status=nope&tenant=BAD!", new[] { "sort", "colour", "limit", "status", "tenant" })]
    [InlineData("/ui/runs/list?period=1y&q=x&to=2026-13-01&workflow=a&layer_name=b", new[] { "period", "to", "workflow" })]
    [InlineData("/ui/runs/list?offset=abc&after=zzz", new[] { "offset", "after" })]
    [InlineData("/ui/runs/stats?tenant=BAD!&foo=1&period=1y", new[] { "tenant", "foo", "period" })]
    public async Task Fragments_SeveralBadParameters_400NamingEachInQueryOrder(string url, string[] parameters)
    {
        var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Html.ParseAsync(response)).QuerySelectorAll("p.error");
        Assert.Equal(parameters, errors.Select(e => e.GetAttribute("data-parameter")));
        Assert.All(errors, e => Assert.StartsWith(e.GetAttribute("data-parameter") + " ", e.Text()));
    }

    /// Scripts that read the first `p.error` keep reading what a lone bad parameter answers.
    [Fact]
    public async Task List_SeveralBadParameters_EachReadsAsWhenItIsAlone()
    {
        var all = (await _client.GetDocumentAsync("/ui/runs/list?limit=500&from=yesterday&colour=red")).QuerySelectorAll("p.error");
        var alone = new List<string>();
        foreach (var query in new[] { "limit=500", "from=yesterday", "colour=red" })
            alone.Add((await _client.GetDocumentAsync("/ui/runs/list?" + query)).QuerySelectorAll("p.error").Single().OuterHtml);

        Assert.Equal(alone, all.Select(e => e.OuterHtml));
    }

    [Theory]
    [InlineData("?period=1y")]
    [InlineData("?period=")]
    [InlineData("?period=24h&period=7d")]
    public async Task Stats_BadPeriod_SameMessageOnTheFragmentAndTheApi(string query)
    {
        var fragment = await _client.GetAsync("/ui/runs/stats" + query);
        var api = await _client.GetAsync("/api/admin/runs/stats" + query);

        Assert.Equal(HttpStatusCode.BadRequest, fragment.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        var message = (await api.JsonAsync()).GetProperty("errors").GetProperty("period")[0].GetString();
        Assert.Equal("period " + message, (await Html.ParseAsync(fragment)).QuerySelector("p.error")?.Text());
    }

    [Fact]
    public async Task Page_BadParameter_Answers400WithTheErrorInPlace()
    {
        var response = await _client.GetAsync("/ui/runs?status=nope");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        Assert.Equal("status", doc.QuerySelector("#runs-list p.error")?.GetAttribute("data-parameter"));
        Assert.NotNull(doc.QuerySelector("form#run-filters"));
    }

    [Fact]
    public async Task Page_SeveralBadParameters_EachNamedInPlace()
    {
        var response = await _client.GetAsync("/ui/runs?status=nope&colour=red&limit=0");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        Assert.Equal(["status", "colour", "limit"], doc.QuerySelectorAll("#runs-list p.error").Select(e => e.GetAttribute("data-parameter")));
    }

    [Fact]
    public async Task Fragments_HostileName_IsEncoded()
    {
        const string hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>";
        var run = await Run("hostile-wf", "failed", new { errors = new[] { new { topic = hostile, error = hostile, node = hostile } } }, name: hostile);

        var list = await _client.GetDocumentAsync("/ui/runs/list?layer_name=hostile-wf");
        var modal = await _client.GetDocumentAsync($"/ui/runs/{run.GetProperty("id").GetString()}");

        Assert.Empty(list.QuerySelectorAll("script, img"));
        Assert.Empty(modal.QuerySelectorAll("script, img"));
        Assert.Equal(hostile, list.QuerySelector("a.run-name").Text());
        Assert.Equal(hostile, modal.QuerySelector(".error-topic").Text());
    }

    [Fact]
    public async Task Modal_MissingRun_Answers404()
    {
        var response = await _client.GetAsync("/ui/runs/doesnotexist");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("<p>Run not found</p>", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/ui/runs/list")]
    [InlineData("/ui/runs/stats")]
    [InlineData("/ui/runs/recent")]
    public async Task Fragments_WithOrWithoutHtmx_CarryNoLayout(string url)
    {
        await Run("layout-wf", "completed");
        var plain = await _client.GetStringAsync(url);
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("HX-Request", "true");
        var htmx = await (await _client.SendAsync(request)).Content.ReadAsStringAsync();

        foreach (var body in new[] { plain, htmx })
        {
            Assert.DoesNotContain("<html", body, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("<head", body, StringComparison.OrdinalIgnoreCase);
            Assert.Null(new AngleSharp.Html.Parser.HtmlParser().ParseDocument(body).QuerySelector("header.topbar"));
        }
    }

    [Fact]
    public async Task Page_FullLoad_RendersPartialsInlineAndWorksAsPlainForm()
    {
        await Run("inline-wf", "completed");

        var doc = await _client.GetDocumentAsync("/ui/runs?layer_name=inline-wf");

        Assert.NotEmpty(doc.QuerySelectorAll("#run-stats .stat-card"));
        Assert.Single(doc.QuerySelectorAll("#runs-list table.runs-table tbody tr"));
        var form = doc.QuerySelector("form#run-filters")!;
        Assert.Equal("get", form.GetAttribute("method"));
        Assert.Equal("/ui/runs", form.GetAttribute("action"));
        Assert.Equal("/ui/runs/list", form.GetAttribute("hx-get"));
        Assert.Equal("inline-wf", doc.QuerySelector("select[name=layer_name] option[selected]")?.GetAttribute("value"));
        Assert.NotNull(doc.QuerySelector("dialog#run-detail-modal.modal"));
        Assert.NotNull(doc.QuerySelector("body[hx-headers]"));
        // Our htmx config as written: no inline indicator styles (the CSP refuses them) and the 400 fragments swapped in.
        var config = System.Text.Json.JsonDocument.Parse(doc.QuerySelector("meta[name=htmx-config]")!.GetAttribute("content")!).RootElement;
        Assert.False(config.GetProperty("includeIndicatorStyles").GetBoolean());
        Assert.Contains(config.GetProperty("responseHandling").EnumerateArray(), r => r.GetProperty("code").GetString() == "400" && r.GetProperty("swap").GetBoolean());
    }

    [Fact]
    public async Task Page_DateTimeBounds_ShownInDateTimePickersInUtc()
    {
        // An alert's link names the hour its window opened; a date picker would drop the time, a text box showed raw ISO.
        var doc = await _client.GetDocumentAsync("/ui/runs?from=2026-11-19T08:00:00Z&to=2026-11-20");
        var offset = await _client.GetDocumentAsync("/ui/runs?from=2026-11-19T09:30:15%2B01:00&to=2026-11-20T10:00:00.250Z");

        var from = doc.QuerySelector("form#run-filters input[name=from]")!;
        var to = doc.QuerySelector("form#run-filters input[name=to]")!;
        Assert.Equal("datetime-local", from.GetAttribute("type"));
        Assert.Equal("2026-11-19T08:00", from.GetAttribute("value"));
        Assert.Null(from.GetAttribute("step"));
        Assert.Equal("From (UTC)", from.Closest("label")!.QuerySelector("span")!.TextContent);
        Assert.Equal("date", to.GetAttribute("type"));
        Assert.Equal("2026-11-20", to.GetAttribute("value"));
        Assert.Equal("To", to.Closest("label")!.QuerySelector("span")!.TextContent);
        var seconds = offset.QuerySelector("form#run-filters input[name=from]")!;
        var millis = offset.QuerySelector("form#run-filters input[name=to]")!;
        Assert.Equal(("2026-11-19T08:30:15", "1"), (seconds.GetAttribute("value"), seconds.GetAttribute("step")));
        Assert.Equal(("2026-11-20T10:00:00.250", "0.001"), (millis.GetAttribute("value"), millis.GetAttribute("step")));
    }

    [Fact]
    public async Task List_FromFilterForm_PushesThePageUrl()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/ui/runs/list?layer_name=x&status=failed");
        request.Headers.Add("HX-Request", "true");
        request.Headers.Add("HX-Trigger", "run-filters");
        var poll = new HttpRequestMessage(HttpMethod.Get, "/ui/runs/list?layer_name=x");
        poll.Headers.Add("HX-Request", "true");
        poll.Headers.Add("HX-Trigger", "runs-poll");

        var pushed = await _client.SendAsync(request);
        var polled = await _client.SendAsync(poll);

        Assert.Equal("/ui/runs?layer_name=x&status=failed", pushed.Headers.GetValues("HX-Push-Url").Single());
        Assert.False(polled.Headers.Contains("HX-Push-Url"));
    }

    [Fact]
    public async Task Page_WhileAListPolls_TheTableIsNotLiveOnlyAShortCountIs()
    {
        await Run("live-summary", "running");
        await Run("live-summary", "completed");

        var page = await _client.GetDocumentAsync("/ui/runs?layer_name=live-summary");

        // A live table is read out whole at every poll: only the count outside it is a status.
        Assert.NotNull(page.QuerySelector("#runs-list #runs-poll"));
        Assert.Null(page.QuerySelector("#runs-list")!.GetAttribute("aria-live"));
        Assert.Empty(page.QuerySelectorAll("#runs-list [aria-live], #runs-list [role=status]"));
        var status = page.QuerySelector("#runs-status[role=status]");
        Assert.NotNull(status);
        Assert.Null(status.Closest("#runs-list"));
        Assert.Contains("visually-hidden", status.ClassList);
        Assert.Equal("Runs 1-2 of 2", status.TextContent.Trim());
    }

    [Fact]
    public async Task Polling_EveryFiveSecondsWhileSomethingShownIsActive_ElseEveryThirtyOnTheFirstPage()
    {
        await Run("poll-live", "running", tenant: "poll-tenant");
        for (var i = 0; i < 3; i++) await Run("poll-done", "completed", tenant: "poll-quiet");

        var live = await _client.GetDocumentAsync("/ui/runs/list?layer_name=poll-live");
        var done = await _client.GetDocumentAsync("/ui/runs/list?layer_name=poll-done");
        var deeper = await _client.GetDocumentAsync("/ui/runs/list?layer_name=poll-done&offset=1&limit=1");
        var past = await _client.GetDocumentAsync("/ui/runs/list?layer_name=poll-done&to=2026-11-01");
        var liveStats = await _client.GetDocumentAsync("/ui/runs/stats?tenant=poll-tenant");
        var quietStats = await _client.GetDocumentAsync("/ui/runs/stats?tenant=poll-quiet");

        Assert.Equal("every 5s", live.QuerySelector("#runs-poll")?.GetAttribute("hx-trigger"));
        Assert.Equal("/ui/runs/list?layer_name=poll-live", live.QuerySelector("#runs-poll")?.GetAttribute("hx-get"));
        // A quiet list still shows the runs that arrive; a deeper page keeps still while it is read.
        Assert.Equal("every 30s", done.QuerySelector("#runs-poll")?.GetAttribute("hx-trigger"));
        Assert.Equal("/ui/runs/list?layer_name=poll-done", done.QuerySelector("#runs-poll")?.GetAttribute("hx-get"));
        Assert.NotNull(deeper.QuerySelector("table.runs-table tbody tr"));
        Assert.Null(deeper.QuerySelector("#runs-poll"));
        // A list that ends before now gets no new runs: it keeps still too.
        Assert.NotNull(past.QuerySelector("table.runs-table, .empty-state"));
        Assert.Null(past.QuerySelector("#runs-poll"));
        Assert.Equal("every 5s", liveStats.QuerySelector("#run-stats #run-stats-poll")?.GetAttribute("hx-trigger"));
        Assert.Equal("/ui/runs/stats?tenant=poll-tenant", liveStats.QuerySelector("#run-stats #run-stats-poll")?.GetAttribute("hx-get"));
        Assert.Equal("every 30s", quietStats.QuerySelector("#run-stats #run-stats-poll")?.GetAttribute("hx-trigger"));
    }

    [Fact]
    public async Task Recent_ShowsFiveLatestCompact()
    {
        for (var i = 0; i < 7; i++) await Run("recent-wf", "completed", created: Now.AddSeconds(30 + i), name: $"recent {i}");

        var doc = await _client.GetDocumentAsync("/ui/runs/recent");

        var items = doc.QuerySelectorAll(".recent-list .recent-item");
        Assert.Equal(5, items.Length);
        Assert.Equal("recent 6", items[0].QuerySelector("a.run-name").Text());
    }

    [Fact]
    public async Task Root_RedirectsToRunsPage()
    {
        var response = await _client.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/runs", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/ui/runs")]
    [InlineData("/ui/runs/list")]
    [InlineData("/api/runs")]
    public async Task Access_FromAnotherMachineWithoutKeys_IsRefused(string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add(RunMonitorFactory.RemoteIpHeader, "203.0.113.7");

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class IndexTestsOnPostgres(PostgresFactory factory) : IndexTests(factory), IClassFixture<PostgresFactory>;
