using System.Globalization;
using System.Net;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Pages.Runs;

/// The run page tells one story: each error once, the steps drawn once with one progress bar,
/// `slowest` only among finished steps, no empty facts, and a heading on every card.
public class RunPageStoryTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient(new() { AllowAutoRedirect = false });

    private string Iso(int secondsAgo) => factory.Clock.GetUtcNow().AddSeconds(-secondsAgo).ToString("O", CultureInfo.InvariantCulture);

    private async Task FailAsync(string id, string stepMessage, string runMessage)
    {
        await _client.CreateRunAsync(new { id, workflowName = "story", status = "running", steps = new[] { new { stepId = "fetch" }, new { stepId = "render" } } });
        await _client.PutStepAsync(id, "fetch", new { status = "completed", durationMs = 100 });
        await _client.PutStepAsync(id, "render", new { status = "failed", durationMs = 200, error = new { message = stepMessage, stack = "at render (step)" } });
        var patch = await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "failed", error = new { message = runMessage, type = "RenderError", stack = "at run (worker)" } });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
    }

    [Fact]
    public async Task FailedRun_StepErrorIsTheRunError_IsToldOnceWithBothStacks()
    {
        await FailAsync("story-same", "template missing", "template missing");

        var doc = await _client.GetDocumentAsync("/runs/story-same");

        Assert.Equal(["template missing"], doc.QuerySelectorAll(".error-text").Select(e => e.Text()));
        var runError = doc.QuerySelector(".run-error-card .error-display")!;
        Assert.Equal("/runs/story-same?step=render#step-panel", runError.QuerySelector(".error-step a")!.GetAttribute("href"));
        Assert.Equal(["at run (worker)", "at render (step)"], runError.QuerySelectorAll("pre.stack-trace").Select(p => p.TextContent));
        var panel = doc.QuerySelector("#step-panel .step-panel[data-step-id=render]")!;
        Assert.Null(panel.QuerySelector(".error-display"));
        Assert.Equal("#run-error-title", panel.QuerySelector(".error-folded a")!.GetAttribute("href"));
        // The fragment htmx loads says the same.
        var fragment = await _client.GetDocumentAsync("/ui/runs/story-same/steps/render");
        Assert.NotNull(fragment.QuerySelector(".error-folded"));
        Assert.Null(fragment.QuerySelector(".error-display"));
    }

    [Fact]
    public async Task FailedRun_StepErrorDiffers_ShowsEachOnce()
    {
        await FailAsync("story-differ", "HTTP 500 from the renderer", "render failed");

        var doc = await _client.GetDocumentAsync("/runs/story-differ");

        Assert.Equal(["render failed", "HTTP 500 from the renderer"], doc.QuerySelectorAll(".error-text").Select(e => e.Text()));
        Assert.Null(doc.QuerySelector(".error-step"));
        Assert.Null(doc.QuerySelector(".error-folded"));
    }

    [Fact]
    public async Task RunningRun_StepsDrawnOnceWithOneProgressBar()
    {
        await _client.CreateRunAsync(new { id = "story-live", workflowName = "story", status = "running", startedAt = Iso(60), steps = new[] { new { stepId = "a" }, new { stepId = "b" } } });
        await _client.PutStepAsync("story-live", "a", new { status = "completed", startedAt = Iso(60), completedAt = Iso(50) });
        await _client.PutStepAsync("story-live", "b", new { status = "running", startedAt = Iso(50) });

        var doc = await _client.GetDocumentAsync("/runs/story-live");
        var live = await _client.GetDocumentAsync(doc.QuerySelector(".run-live-body")!.GetAttribute("hx-get")!);

        Assert.Single(doc.QuerySelectorAll("progress"));
        Assert.NotNull(doc.QuerySelector("#step-timeline progress"));
        Assert.Empty(doc.QuerySelectorAll(".run-live-steps, .run-live-count"));
        Assert.Empty(live.QuerySelectorAll("progress, .run-live-steps, .run-live-count"));
        Assert.Equal("b", live.QuerySelector(".run-live-current .mono").Text());
        // The event stream refreshes the timeline too, not only the live line.
        var refresh = doc.QuerySelector(".run-live .run-live-timeline")!;
        Assert.Equal("/ui/runs/story-live/steps", refresh.GetAttribute("hx-get"));
        Assert.Equal("sse:run", refresh.GetAttribute("hx-trigger"));
        Assert.Equal("#step-timeline", refresh.GetAttribute("hx-target"));
        // The modal has no timeline: it keeps its list of steps.
        var modal = await _client.GetDocumentAsync("/ui/runs/story-live");
        Assert.Equal(2, modal.QuerySelectorAll(".run-live-steps .live-step").Length);
        // Its bar fills in the run's status colour, as the table's does.
        Assert.Contains("st-running", modal.QuerySelector("progress.run-progress")!.ClassList);
        await _client.PatchJsonAsync("/api/runs/story-live", new { status = "failed" });
        Assert.Contains("st-failed", (await _client.GetDocumentAsync("/ui/runs/story-live")).QuerySelector("progress.run-progress")!.ClassList);
    }

    [Fact]
    public async Task Slowest_IsMarkedOnlyOnceTwoStepsHaveFinished()
    {
        await _client.CreateRunAsync(new { id = "story-slow", workflowName = "story", status = "running", startedAt = Iso(100), steps = new[] { new { stepId = "a" }, new { stepId = "b" }, new { stepId = "c" } } });
        await _client.PutStepAsync("story-slow", "a", new { status = "completed", startedAt = Iso(100), completedAt = Iso(98) });
        await _client.PutStepAsync("story-slow", "b", new { status = "running", startedAt = Iso(98) });

        var oneFinished = await _client.GetDocumentAsync("/runs/story-slow");
        await _client.PutStepAsync("story-slow", "b", new { status = "completed", startedAt = Iso(98), completedAt = Iso(90) });
        await _client.PutStepAsync("story-slow", "c", new { status = "running", startedAt = Iso(90) });
        var twoFinished = await _client.GetDocumentAsync("/runs/story-slow");

        // b ran longer than a before it finished; c, still running at 90 s, is longer than both but not finished.
        Assert.Empty(oneFinished.QuerySelectorAll(".tag-slowest, .wf-slowest"));
        Assert.Equal("b", twoFinished.QuerySelector(".wf-row.wf-slowest")!.GetAttribute("data-step-id"));
        Assert.Single(twoFinished.QuerySelectorAll(".tag-slowest"));
    }

    [Fact]
    public async Task BareRun_ShowsNoEmptyFacts_AndEveryCardHasAHeading()
    {
        await _client.CreateRunAsync(new { id = "story-bare", workflowName = "story" });

        var doc = await _client.GetDocumentAsync("/runs/story-bare");

        var facts = doc.QuerySelectorAll(".run-facts dt").Select(d => d.Text()).ToList();
        Assert.Equal(["Run id", "Workflow", "Tenant", "Status", "Created"], facts);
        Assert.DoesNotContain(doc.QuerySelectorAll(".run-facts dd"), dd => dd.Text() == "—");
        var cards = doc.QuerySelectorAll("main section.card");
        Assert.NotEmpty(cards);
        Assert.All(cards, card => Assert.NotNull(card.QuerySelector("h2")));
        Assert.All(cards, card => Assert.Equal(card.GetAttribute("aria-labelledby"), card.QuerySelector("h2")!.Id));
    }

    [Fact]
    public async Task RunWithUsage_ShowsTokensAndCost()
    {
        await _client.CreateRunAsync(new { id = "story-usage", workflowName = "story", status = "completed", usage = new { model = "gpt-4o-mini", tokensInput = 1200, tokensOutput = 34, costUsd = 0.0123 } });

        var doc = await _client.GetDocumentAsync("/runs/story-usage");

        Assert.Equal("1,200 in · 34 out", doc.QuerySelector(".fact-tokens").Text());
        Assert.Equal("$0.0123", doc.QuerySelector(".fact-cost").Text());
        Assert.Equal("gpt-4o-mini", doc.QuerySelector(".fact-model").Text());
    }
}
