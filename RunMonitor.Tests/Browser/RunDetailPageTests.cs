using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// The run page in Chromium: a step's panel opens in place, and the JSON viewer expands.
[Collection(BrowserCollection.Name)]
public sealed class RunDetailPageTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    /// The waterfall's tracks share one time scale: each starts and ends at one place, whatever the time column of
    /// its row holds (a duration, the "slowest" tag, a cache hit), on a wide screen and on a phone.
    [Theory]
    [InlineData(1440)]
    [InlineData(390)]
    public async Task Waterfall_EveryTrackStartsAndEndsAtOnePlace(int width)
    {
        var id = "browser-wf-" + Guid.NewGuid().ToString("N")[..8];
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-5);
        await fixture.Api.CreateRunAsync(new
        {
            id, workflowName = "campaign_generation", name = "Waterfall", status = "running",
            steps = new[] { new { stepId = "gather" }, new { stepId = "reflect_on_everything" }, new { stepId = "store" } },
        });
        await fixture.Api.PutStepAsync(id, "gather", new { status = "completed", startedAt = t0, endedAt = t0.AddSeconds(2), cacheHit = true });
        await fixture.Api.PutStepAsync(id, "reflect_on_everything", new { status = "completed", startedAt = t0.AddSeconds(2), endedAt = t0.AddSeconds(9) });
        await fixture.Api.PutStepAsync(id, "store", new { status = "completed", startedAt = t0.AddSeconds(9), endedAt = t0.AddSeconds(10) });
        var page = await fixture.NewPageAsync();
        await page.SetViewportSizeAsync(width, 900);

        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");

        await Assertions.Expect(page.Locator(".wf-row.wf-slowest[data-step-id=reflect_on_everything]")).ToBeVisibleAsync();
        var tracks = await page.EvaluateAsync<double[][]>(
            "() => [...document.querySelectorAll('.waterfall .wf-track')].map(t => { const r = t.getBoundingClientRect(); return [r.left, r.right]; })");
        Assert.Equal(3, tracks.Length);
        Assert.All(tracks, t => Assert.Equal((tracks[0][0], tracks[0][1]), (t[0], t[1])));
    }

    [Fact]
    public async Task StepPanel_OpensInPlace_AndJsonNodeExpands()
    {
        var id = "browser-detail-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Api.CreateRunAsync(new
        {
            id, workflowName = "campaign_generation", name = "Browser detail", status = "running",
            steps = new[] { new { stepId = "game_config" }, new { stepId = "bundle_game" } },
        });
        await fixture.Api.PutStepAsync(id, "game_config", new { status = "completed", durationMs = 1200 });
        await fixture.Api.PutStepAsync(id, "bundle_game", new
        {
            status = "completed", durationMs = 3500,
            input = new { game = new { assets = new { sprites = new[] { "hero.png", "coin.png" } } } },
        });
        var page = await fixture.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") consoleErrors.Add(message.Text); };
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await page.EvaluateAsync("() => window.__marker = 'same page'");

        await page.ClickAsync(".step-chain .step-chip[data-step-id=bundle_game] a");

        var panel = page.Locator("#step-panel .step-panel[data-step-id=bundle_game]");
        await Assertions.Expect(panel).ToBeVisibleAsync();
        await Assertions.Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/runs/{id}?step=bundle_game");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__marker"));
        await Assertions.Expect(page.Locator(".step-chip[data-step-id=bundle_game]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("selected"));

        // Two levels start open; "assets" (the third) and "sprites" inside it wait for a click.
        var assets = panel.Locator("details.jv-node").Nth(2);
        var sprites = panel.Locator("details.jv-node").Nth(3);
        var hero = sprites.Locator(".jv-string", new() { HasText = "hero.png" });
        await Assertions.Expect(hero).ToBeHiddenAsync();
        await assets.Locator("> summary").ClickAsync();
        await Assertions.Expect(assets).ToHaveAttributeAsync("open", "");
        await sprites.Locator("> summary").ClickAsync();
        await Assertions.Expect(hero).ToBeVisibleAsync();

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#step-panel .step-panel[data-step-id=bundle_game]")).ToBeVisibleAsync();

        // detail.js: "Collapse all" closes every node of that viewer (and CSP let the script run).
        var viewer = page.Locator("#step-panel .json-viewer").First;
        await viewer.Locator("[data-jv-collapse]").ClickAsync();
        await Assertions.Expect(viewer.Locator("details.jv-node[open]")).ToHaveCountAsync(0);
        Assert.Empty(consoleErrors);
    }

    [Fact]
    public async Task RunsList_SortThenFilter_KeepsSortAndExportLinkFollows()
    {
        await fixture.Api.CreateRunAsync(new { workflowName = "browser-sort", status = "failed" });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name=browser-sort");

        await page.ClickAsync("th.sortable a:has-text('Duration')");
        await Assertions.Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/ui/runs?layer_name=browser-sort&sort=-duration");
        await page.SelectOptionAsync("select[name=status]", "failed");

        await Assertions.Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/ui/runs?layer_name=browser-sort&status=failed&sort=-duration");
        await Assertions.Expect(page.Locator("a.export-csv")).ToHaveAttributeAsync("href", "/ui/runs/export.csv?layer_name=browser-sort&status=failed&sort=-duration");
    }
}
