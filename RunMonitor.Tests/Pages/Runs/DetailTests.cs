using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Pages.Runs;

/// `/runs/{id}` and its fragments `/ui/runs/{id}/steps[/{stepId}]`, through HTTP and CSS selectors.
public class DetailTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient(new() { AllowAutoRedirect = false });
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Plan = ["game_config", "bgm_track", "bundle_game", "manifest"];

    private static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    /// The story's picture: two steps done (1.2s, 3.5s), the third running, the fourth pending.
    private async Task<string> RunningCampaignAsync(string id)
    {
        var t0 = Now.AddSeconds(-6);
        await _client.CreateRunAsync(new
        {
            id, workflowName = "campaign_generation", name = "Spring <Sale>", status = "running", startedAt = Iso(t0),
            steps = Plan.Select(s => new { stepId = s, skillId = "skill." + s }).ToArray(),
        });
        await _client.PutStepAsync(id, "game_config", new { status = "completed", startedAt = Iso(t0), completedAt = Iso(t0.AddMilliseconds(1200)) });
        await _client.PutStepAsync(id, "bgm_track", new { status = "completed", startedAt = Iso(t0.AddMilliseconds(1200)), completedAt = Iso(t0.AddMilliseconds(4700)), cacheHit = true });
        await _client.PutStepAsync(id, "bundle_game", new { status = "running", startedAt = Iso(t0.AddMilliseconds(4700)) });
        return id;
    }

    private async Task<string> FailedCampaignAsync(string id)
    {
        var t0 = Now.AddMinutes(-5);
        await _client.CreateRunAsync(new
        {
            id, workflowName = "campaign_generation", name = "Failing campaign", status = "running", startedAt = Iso(t0),
            triggerPayload = new { campaignId = "cmp_1", prizes = new[] { new { tier = 1 } } },
            steps = Plan.Select(s => new { stepId = s }).ToArray(),
        });
        await _client.PutStepAsync(id, "game_config", new { status = "completed", durationMs = 1200 });
        await _client.PutStepAsync(id, "bgm_track", new
        {
            status = "failed", durationMs = 800, attempt = 2, input = new { track = "intro" },
            error = new { message = "Model call timed out", stack = "Traceback (most recent call last):\n  File \"x.py\", line 3\n\tTimeoutError" },
        });
        var patch = await _client.PatchJsonAsync($"/api/runs/{id}", new
        {
            status = "failed",
            error = new { message = "bgm_track failed", type = "TimeoutError", stack = "line one\n    at two <b>bold</b>" },
            errors = new[] { new { topic = "user:42", error = "quota exceeded", node = "reflect" } },
        });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        return id;
    }

    [Fact]
    public async Task Page_RunningRun_ShowsChainInPlanOrderWithDurationsAndPending()
    {
        var id = await RunningCampaignAsync("detail-chain");

        var response = await _client.GetAsync($"/runs/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        Assert.NotNull(doc.QuerySelector("html body main"));
        var chips = doc.QuerySelectorAll(".step-chain .step-chip");
        Assert.Equal(Plan, chips.Select(c => c.GetAttribute("data-step-id")));
        Assert.Equal(["✓", "✓", "●", "○"], chips.Select(c => c.QuerySelector("svg.step-icon")!.GetAttribute("data-icon")));
        Assert.Equal(["completed", "completed", "running", "pending"], chips.Select(c => c.ClassList.First(x => x.StartsWith("step-") && x != "step-chip")[5..]));
        Assert.Equal("1.2s", chips[0].QuerySelector(".step-duration").Text());
        Assert.Equal("3.5s", chips[1].QuerySelector(".step-duration").Text());
        Assert.Equal("1.3s…", chips[2].QuerySelector(".step-duration").Text());
        Assert.Equal("pending", chips[3].QuerySelector(".step-duration").Text());
        var progress = doc.QuerySelector(".step-timeline progress")!;
        Assert.Equal("4", progress.GetAttribute("max"));
        Assert.Equal("2", progress.GetAttribute("value"));
        Assert.Equal("2 of 4 completed · 50%", doc.QuerySelector(".progress-text").Text());
        Assert.Equal("running", doc.QuerySelector(".run-head-status span.badge.badge-running").Text());
        Assert.Equal("Spring <Sale>", doc.QuerySelector("h1").Text());
        Assert.Equal("campaign_generation", doc.QuerySelector(".fact-workflow").Text());
        Assert.Equal("default", doc.QuerySelector(".fact-tenant").Text());
        // A live run's timeline polls its fragment.
        Assert.Equal($"/ui/runs/{id}/steps", doc.QuerySelector("#step-timeline #step-timeline-poll")!.GetAttribute("hx-get"));
    }

    [Fact]
    public async Task Page_ClaimedRun_NamesItsWorkerAndWhenTheLeaseRunsOut()
    {
        await _client.CreateRunAsync(new { id = "page-leased", workflowName = "page-lease-wf" });
        var claim = await _client.PostAsJsonAsync("/api/queue/claim", new { worker = "pool-7", workflows = new[] { "page-lease-wf" }, leaseSeconds = 600 });
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        await _client.CreateRunAsync(new { id = "page-unleased", workflowName = "page-lease-wf", status = "completed" });

        var leased = await _client.GetDocumentAsync("/runs/page-leased");
        var finished = await _client.GetDocumentAsync("/runs/page-unleased");

        Assert.Equal("pool-7", leased.QuerySelector(".fact-worker a")!.TextContent);
        Assert.Equal("/ui/workers", leased.QuerySelector(".fact-worker a")!.GetAttribute("href"));
        var lease = leased.QuerySelector(".fact-lease time")!;
        Assert.Equal(factory.Clock.GetUtcNow().AddSeconds(600), DateTimeOffset.Parse(lease.GetAttribute("datetime")!, CultureInfo.InvariantCulture));
        Assert.Equal("10 minutes from now", lease.TextContent);
        Assert.Null(finished.QuerySelector(".fact-worker, .fact-lease"));
    }

    [Fact]
    public async Task Page_Waterfall_BarsProportionalAndSlowestMarked()
    {
        var id = await RunningCampaignAsync("detail-waterfall");

        var doc = await _client.GetDocumentAsync($"/runs/{id}");

        var rows = doc.QuerySelectorAll(".waterfall .wf-row");
        Assert.Equal(Plan, rows.Select(r => r.GetAttribute("data-step-id")));
        double Attr(int row, string name) => double.Parse(rows[row].QuerySelector("rect.wf-bar")!.GetAttribute(name)!, CultureInfo.InvariantCulture);
        // 6 s from the first start to now: game_config 0-1.2 s, bgm_track 1.2-4.7 s, bundle_game 4.7-6 s (running).
        Assert.Equal(0, Attr(0, "x"));
        Assert.Equal(200, Attr(0, "width"), 0.5);
        Assert.Equal(200, Attr(1, "x"), 0.5);
        Assert.Equal(583.3, Attr(1, "width"), 0.5);
        Assert.Equal(783.3, Attr(2, "x"), 0.5);
        Assert.Null(rows[3].QuerySelector("rect.wf-bar"));
        Assert.Equal("bgm_track", doc.QuerySelector(".wf-row.wf-slowest")!.GetAttribute("data-step-id"));
        Assert.Single(doc.QuerySelectorAll(".tag-slowest"));
        Assert.Empty(doc.QuerySelectorAll("[style]"));
    }

    [Fact]
    public async Task Page_FailedRun_ShowsErrorStackErrorsListAndOpensFailingStep()
    {
        var id = await FailedCampaignAsync("detail-failed");

        var doc = await _client.GetDocumentAsync($"/runs/{id}");

        var error = doc.QuerySelector(".run-error-card .error-display")!;
        Assert.Equal("TimeoutError", error.QuerySelector(".error-type").Text());
        Assert.Equal("bgm_track failed", error.QuerySelector(".error-text").Text());
        var stack = error.QuerySelector("details.stack pre.stack-trace")!;
        Assert.Equal("line one\n    at two <b>bold</b>", stack.TextContent);
        Assert.Empty(stack.QuerySelectorAll("b"));
        Assert.Equal("#" + stack.Id, error.QuerySelector("button.copy-btn")!.GetAttribute("data-copy-target"));
        var item = doc.QuerySelector(".errors-list .error-item")!;
        Assert.Equal("user:42", item.QuerySelector(".error-topic").Text());
        Assert.Equal("quota exceeded", item.QuerySelector(".error-message").Text());
        Assert.Equal("Node: reflect", item.QuerySelector(".error-node").Text());
        var panel = doc.QuerySelector("#step-panel .step-panel[data-step-id=bgm_track]")!;
        Assert.Equal("Traceback (most recent call last):\n  File \"x.py\", line 3\n\tTimeoutError", panel.QuerySelector("pre.stack-trace")!.TextContent);
        Assert.Contains("selected", doc.QuerySelector(".step-chip[data-step-id=bgm_track]")!.ClassList);
        Assert.Equal("cmp_1", doc.QuerySelectorAll(".payloads .json-viewer")[0].QuerySelector(".jv-string").Text().Trim('"'));
        // Steps reported with a duration but no start times are laid end to end: 1.2 s then 0.8 s of 2 s.
        Assert.Equal("600", doc.QuerySelector(".wf-row[data-step-id=bgm_track] rect.wf-bar")!.GetAttribute("x"));
        Assert.Equal("400", doc.QuerySelector(".wf-row[data-step-id=bgm_track] rect.wf-bar")!.GetAttribute("width"));
    }

    // The page reads all it shows in one batch: the step it opens (the first failed one in the plan's order, not a
    // later failure) with that step's artifacts and lines only, the run's every line and its activity; never another
    // run's rows of the same step name. With `step` it opens that step the same way.
    [Fact]
    public async Task Page_OneBatch_OpensFirstFailedStepWithItsOwnArtifactsLinesAndActivity()
    {
        var id = await FailedCampaignAsync("detail-batch");
        var other = await FailedCampaignAsync("detail-batch-other");
        await _client.PutStepAsync(id, "manifest", new { status = "failed", error = new { message = "a later failure" } });
        foreach (var (run, step, name) in new[] { (id, "bgm_track", "track.mp3"), (id, "manifest", "manifest.json"), (other, "bgm_track", "other.mp3") })
            Assert.Equal(HttpStatusCode.Created, (await _client.PostAsync($"/api/runs/{run}/steps/{step}/artifacts?name={name}", new StringContent(name))).StatusCode);
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "run begins" },
            new { message = "bgm call timed out", level = "error", step = "bgm_track" },
            new { message = "manifest written", step = "manifest" },
        });
        await _client.PostAsJsonAsync($"/api/runs/{other}/logs", new object[] { new { message = "the other run's line", step = "bgm_track" } });

        var doc = await _client.GetDocumentAsync($"/runs/{id}");
        var asked = await _client.GetDocumentAsync($"/runs/{id}?step=manifest&level=info");

        var panel = doc.QuerySelector("#step-panel .step-panel")!;
        Assert.Equal("bgm_track", panel.GetAttribute("data-step-id"));
        Assert.Equal(["track.mp3"], panel.QuerySelectorAll(".artifact-name").Select(a => a.TextContent));
        Assert.Equal(["bgm call timed out"], panel.QuerySelectorAll(".log-message").Select(m => m.TextContent));
        Assert.Equal(["run begins", "bgm call timed out", "manifest written"], doc.QuerySelectorAll("#run-logs .log-message").Select(m => m.TextContent));
        Assert.Single(doc.QuerySelectorAll(".activity-list .activity-created"));
        var askedPanel = asked.QuerySelector("#step-panel .step-panel")!;
        Assert.Equal("manifest", askedPanel.GetAttribute("data-step-id"));
        Assert.Equal(["manifest.json"], askedPanel.QuerySelectorAll(".artifact-name").Select(a => a.TextContent));
        Assert.Equal(["manifest written"], askedPanel.QuerySelectorAll(".log-message").Select(m => m.TextContent));
        Assert.Equal(3, asked.QuerySelectorAll("#run-logs .log-message").Length);
    }

    [Fact]
    public async Task Page_StepQuery_RendersPanelInlineWithFacts()
    {
        var id = await RunningCampaignAsync("detail-query");

        var doc = await _client.GetDocumentAsync($"/runs/{id}?step=bgm_track");

        var panel = doc.QuerySelector("#step-panel .step-panel")!;
        Assert.Equal("bgm_track", panel.GetAttribute("data-step-id"));
        Assert.Equal("skill.bgm_track", panel.QuerySelector("dl.step-facts div:nth-child(2) dd").Text());
        Assert.Equal("3.5s", panel.QuerySelector(".step-panel-duration").Text());
        Assert.Equal("hit", panel.QuerySelector(".step-cache").Text());
        Assert.Equal("1", panel.QuerySelector(".step-attempt").Text());
        Assert.Equal("step", doc.QuerySelector(".step-chip[data-step-id=bgm_track] a")!.GetAttribute("aria-current"));
    }

    [Fact]
    public async Task Page_UnknownStepOrParameter_AnswersClearly()
    {
        var id = await RunningCampaignAsync("detail-badstep");

        var missing = await _client.GetAsync($"/runs/{id}?step=nope");
        var bad = await _client.GetAsync($"/runs/{id}?tab=x");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Step not found", (await Html.ParseAsync(missing)).QuerySelector("#step-panel p").Text());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("tab", (await Html.ParseAsync(bad)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task Page_SeveralBadParameters_Answers400NamingEachInQueryOrder()
    {
        var id = await RunningCampaignAsync("detail-bad-params");

        var response = await _client.GetAsync($"/runs/{id}?level=loud&tab=x&at=1&step=a%20b");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["level", "tab", "step", "list"],
            (await Html.ParseAsync(response)).QuerySelectorAll("p.error[role=alert]").Select(e => e.GetAttribute("data-parameter")));
    }

    [Theory]
    [InlineData("step=game_config&step=bgm_track", "more than once")]
    [InlineData("step=game%20config", "accepts a step id")]
    // Empty, it opened no panel and said nothing.
    [InlineData("step=", "accepts the id of the step to open")]
    public async Task Page_StepGivenTwiceOrNotAnId_Answers400NamingStep(string query, string message)
    {
        var id = await RunningCampaignAsync("detail-badstep-" + Guid.NewGuid().ToString("N")[..8]);

        var response = await _client.GetAsync($"/runs/{id}?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Html.ParseAsync(response)).QuerySelector("p.error[role=alert]")!;
        Assert.Equal("step", error.GetAttribute("data-parameter"));
        Assert.Contains(message, error.Text());
    }

    [Fact]
    public async Task Page_MissingRun_Answers404RunNotFound()
    {
        var response = await _client.GetAsync("/runs/no-such-run");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        Assert.Equal("Run not found", doc.QuerySelector("main p").Text());
        // A page has one heading of the first level (axe page-has-heading-one): it names the run asked for.
        Assert.Equal("Run no-such-run", Assert.Single(doc.QuerySelectorAll("h1")).Text().Trim());
    }

    [Fact]
    public async Task Store_OtherTenantsRun_IsNotFound()
    {
        await _client.CreateRunAsync(new { id = "detail-acme", tenantId = "acme", workflowName = "wf" });
        var store = factory.Services.GetRequiredService<RunViews>();

        Assert.Null(await store.GetDetailAsync("globex", "detail-acme"));
        Assert.NotNull(await store.GetDetailAsync("acme", "detail-acme"));
    }

    [Fact]
    public async Task Timeline_StepLinks_AreWhatRoutingGeneratesForEveryCharacterAnIdMayHold()
    {
        string[] stepIds = ["fetch:one", "two.b-c_d", "Three9"];
        await _client.CreateRunAsync(new { id = "detail-links:a.b", workflowName = "wf", status = "running", steps = stepIds.Select(s => new { stepId = s }).ToArray() });
        var routing = factory.Services.GetRequiredService<LinkGenerator>();

        var doc = await _client.GetDocumentAsync("/runs/detail-links:a.b");

        var chain = doc.QuerySelectorAll("#step-timeline .step-link").ToList();
        var bars = doc.QuerySelectorAll("#step-timeline .wf-label").ToList();
        Assert.Equal(stepIds.Length, chain.Count);
        for (var i = 0; i < stepIds.Length; i++)
        {
            var page = routing.GetPathByPage("/Runs/Detail", values: new { id = "detail-links:a.b", step = stepIds[i] });
            var panel = routing.GetPathByPage("/Runs/Steps", values: new { id = "detail-links:a.b", stepId = stepIds[i] });
            foreach (var link in new[] { chain[i], bars[i] })
            {
                Assert.Equal(page + "#step-panel", link.GetAttribute("href"));
                Assert.Equal(panel, link.GetAttribute("hx-get"));
                Assert.Equal(page, link.GetAttribute("hx-push-url"));
            }
        }
        Assert.Equal("/runs/detail-links%3Aa.b?step=fetch%3Aone", chain[0].GetAttribute("hx-push-url"));
    }

    [Fact]
    public async Task Store_Views_OtherTenantsRunIsNotFound()
    {
        await _client.CreateRunAsync(new { id = "detail-view-acme", tenantId = "acme", workflowName = "wf" });
        var store = factory.Services.GetRequiredService<RunViews>();

        Assert.Null(await store.GetModalViewAsync("globex", "detail-view-acme"));
        Assert.Null(await store.GetPageViewAsync("globex", "detail-view-acme"));
        Assert.Null(await store.GetPageViewAsync(null, "detail-view-missing"));
        Assert.Equal("detail-view-acme", (await store.GetModalViewAsync("acme", "detail-view-acme"))!.Detail.Run.Id);
        Assert.Equal("detail-view-acme", (await store.GetPageViewAsync(null, "detail-view-acme"))!.Detail.Run.Id);
    }

    [Fact]
    public async Task Store_Views_ReadWhatEachViewShows()
    {
        var id = await FailedCampaignAsync("detail-view-failed");
        var at = "2026-11-21T11:00:00.000Z";
        await factory.InsertRunAsync(new RunRow { Id = "detail-view-retry", TenantId = "default", WorkflowName = "wf", Status = "queued", RetryOf = id, CreatedAt = at, UpdatedAt = at });
        await factory.InsertRunAsync(new RunRow { Id = "detail-view-elsewhere", TenantId = "acme", WorkflowName = "wf", Status = "queued", RetryOf = id, CreatedAt = at, UpdatedAt = at });
        var store = factory.Services.GetRequiredService<RunViews>();

        var modal = (await store.GetModalViewAsync("default", id))!;
        var page = (await store.GetPageViewAsync("default", id))!;
        var all = (await store.GetPageViewAsync(null, id))!;

        Assert.Equal(["quota exceeded"], page.Detail.Errors.Select(e => e.Error));
        Assert.Equal(page.Detail.Errors, modal.Detail.Errors);
        Assert.Equal(Plan, modal.Steps.Select(s => s.StepId));
        Assert.Equal(Plan, page.Steps.Select(s => s.StepId));
        // The modal's steps carry status, timing and attempt, not payloads; the page's are whole.
        var failedInModal = modal.Steps.Single(s => s.StepId == "bgm_track");
        Assert.Equal((StepStatus.Failed, 2L, 800L), (failedInModal.Status, failedInModal.Attempt, failedInModal.DurationMs!.Value));
        Assert.Null(failedInModal.Input);
        Assert.Null(modal.Detail.Run.TriggerPayload);
        Assert.Contains("cmp_1", page.Detail.Run.TriggerPayload);
        Assert.Equal(await store.GetStepsAsync(page.Detail.Run), page.Steps);
        Assert.Empty(modal.Retries);
        Assert.Equal([("detail-view-retry", "queued", at)], page.Retries.Select(r => (r.Id, r.Status, r.CreatedAt)));
        // acme's run names acme's own "detail-view-failed" (there is none): a super admin sees the run's tenant's retries.
        Assert.Equal(["detail-view-retry"], all.Retries.Select(r => r.Id));
    }

    [Fact]
    public async Task Page_Retries_LinksBothWaysWithinTenant()
    {
        await _client.CreateRunAsync(new { id = "detail-orig", workflowName = "wf", status = "failed" });
        var at = "2026-11-21T11:00:00.000Z";
        await factory.InsertRunAsync(new RunRow { Id = "detail-retry", TenantId = "default", WorkflowName = "wf", Status = "queued", RetryOf = "detail-orig", CreatedAt = at, UpdatedAt = at });
        await factory.InsertRunAsync(new RunRow { Id = "detail-elsewhere", TenantId = "acme", WorkflowName = "wf", Status = "queued", RetryOf = "detail-orig", CreatedAt = at, UpdatedAt = at });

        var original = await _client.GetDocumentAsync("/runs/detail-orig");
        var retry = await _client.GetDocumentAsync("/runs/detail-retry");
        var store = factory.Services.GetRequiredService<RunViews>();

        // acme's run retried acme's own "detail-orig" (there is none): run ids belong to their tenant.
        Assert.Equal(["/runs/detail-retry"], original.QuerySelectorAll(".fact-retries a").Select(a => a.GetAttribute("href")));
        Assert.Equal("/runs/detail-orig", retry.QuerySelector(".fact-retry-of a")!.GetAttribute("href"));
        Assert.Equal(["detail-retry"], (await store.RetriesAsync((await store.GetAsync("default", "detail-orig"))!)).Select(r => r.Id));
    }

    [Fact]
    public async Task TimelineFragment_ReturnsTimelineWithoutLayout()
    {
        var id = await RunningCampaignAsync("detail-fragment");

        var response = await _client.GetAsync($"/ui/runs/{id}/steps");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<html", text);
        var doc = await Html.ParseAsync(response);
        Assert.Equal(Plan, doc.QuerySelectorAll("#step-timeline .step-chip").Select(c => c.GetAttribute("data-step-id")));
        var link = doc.QuerySelector(".step-chip[data-step-id=manifest] a")!;
        Assert.Equal($"/runs/{id}?step=manifest#step-panel", link.GetAttribute("href"));
        Assert.Equal($"/ui/runs/{id}/steps/manifest", link.GetAttribute("hx-get"));
        Assert.Equal("#step-panel", link.GetAttribute("hx-target"));
        Assert.Equal($"/runs/{id}?step=manifest", link.GetAttribute("hx-push-url"));
    }

    [Fact]
    public async Task TimelinePoll_RunFinished_AsksForOneRefresh()
    {
        var id = await RunningCampaignAsync("detail-poll");
        HttpRequestMessage Poll() => new(HttpMethod.Get, $"/ui/runs/{id}/steps") { Headers = { { "HX-Request", "true" }, { "HX-Trigger", "step-timeline-poll" } } };

        var whileRunning = await _client.SendAsync(Poll());
        await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
        var afterEnd = await _client.SendAsync(Poll());

        Assert.False(whileRunning.Headers.Contains("HX-Refresh"));
        Assert.Equal("true", afterEnd.Headers.GetValues("HX-Refresh").Single());
        var timeline = (await Html.ParseAsync(afterEnd)).QuerySelector("#step-timeline");
        Assert.NotNull(timeline);
        Assert.Null(timeline.QuerySelector("#step-timeline-poll"));
    }

    [Fact]
    public async Task StepFragment_ReturnsPanelWithoutLayout()
    {
        var id = await FailedCampaignAsync("detail-panel");

        var response = await _client.GetAsync($"/ui/runs/{id}/steps/bgm_track");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("<html", await response.Content.ReadAsStringAsync());
        var panel = (await Html.ParseAsync(response)).QuerySelector(".step-panel")!;
        Assert.Equal("2", panel.QuerySelector(".step-attempt").Text().Split(' ')[0].Trim().Replace("retried", ""));
        Assert.Equal("miss", panel.QuerySelector(".step-cache").Text());
        Assert.Equal("Model call timed out", panel.QuerySelector(".error-text").Text());
        Assert.Equal("intro", panel.QuerySelectorAll(".json-viewer")[0].QuerySelector(".jv-string").Text().Trim('"'));
        Assert.Equal("Nothing recorded", panel.QuerySelectorAll(".json-viewer")[1].QuerySelector(".jv-none").Text());
    }

    [Theory]
    [InlineData("/ui/runs/nope/steps", "Run not found")]
    [InlineData("/ui/runs/nope/steps/x", "Run not found")]
    [InlineData("/ui/runs/detail-404/steps/nope", "Step not found")]
    public async Task Fragments_Missing_Answer404(string url, string text)
    {
        if (await _client.GetAsync("/api/runs/detail-404") is { StatusCode: HttpStatusCode.NotFound })
            await _client.CreateRunAsync(new { id = "detail-404", workflowName = "wf" });

        var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(text, (await Html.ParseAsync(response)).QuerySelector("p").Text());
    }

    [Theory]
    [InlineData("/ui/runs/list", "table.runs-table")]
    [InlineData("/ui/runs/stats", ".stat-card")]
    [InlineData("/ui/runs/recent", ".recent-runs")]
    [InlineData("/ui/runs/route-run", ".modal-content")]
    [InlineData("/ui/runs/route-run/steps", "#step-timeline")]
    [InlineData("/ui/runs/route-run/steps/only", ".step-panel")]
    [InlineData("/runs/route-run", "#step-timeline")]
    public async Task Routes_UiRunsFamily_AreNotAmbiguous(string url, string selector)
    {
        if (await _client.GetAsync("/api/runs/route-run") is { StatusCode: HttpStatusCode.NotFound })
            await _client.CreateRunAsync(new { id = "route-run", workflowName = "wf", steps = new[] { new { stepId = "only" } } });

        var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull((await Html.ParseAsync(response)).QuerySelector(selector));
    }

    [Fact]
    public async Task Links_ModalAndTable_PointToRunPage()
    {
        await _client.CreateRunAsync(new { id = "detail-linked", workflowName = "detail-links-wf" });

        var modal = await _client.GetDocumentAsync("/ui/runs/detail-linked");
        var table = await _client.GetDocumentAsync("/ui/runs/list?layer_name=detail-links-wf");

        Assert.NotNull(modal.QuerySelector(".modal-content a[href='/runs/detail-linked']"));
        // The table's link also carries the list it is in (issue 19's previous/next).
        Assert.NotNull(table.QuerySelector("table.runs-table tbody tr a[href^='/runs/detail-linked?list=']"));
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class DetailTestsOnPostgres(PostgresFactory factory) : DetailTests(factory), IClassFixture<PostgresFactory>;
