using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// The run page in Chromium: a step's panel opens in place, and the JSON viewer expands.
[Collection(BrowserCollection.Name)]
public sealed class RunDetailPageTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

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
