using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// Issue 15 in the browser: rows chosen with their checkboxes (and with x), a bulk cancel confirmed in the dialog, its
/// toast and the badges the refreshed table shows; "select all matching" with the typed count, followed to the end.
[Collection(BrowserCollection.Name)]
public sealed class BulkBrowserTests(BrowserFixture fixture)
{
    private async Task<List<string>> SeedAsync(string workflow, string status, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
            ids.Add((await fixture.Api.CreateRunAsync(new { workflowName = workflow, name = $"{workflow} {i}", status })).GetProperty("id").GetString()!);
        return ids;
    }

    [Fact]
    public async Task SelectThreeRows_BulkCancel_ToastAndBadgesChange()
    {
        var workflow = "bulk-ui-three-" + Guid.NewGuid().ToString("N")[..6];
        var ids = await SeedAsync(workflow, "queued", 4);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=" + workflow);
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(4);

        // Two by mouse, one by keyboard: j moves to the first row, x selects it.
        await page.Locator($"tr[data-run-id='{ids[1]}'] input.run-select").CheckAsync();
        await page.Locator($"tr[data-run-id='{ids[2]}'] input.run-select").CheckAsync();
        await page.Locator("body").ClickAsync(new LocatorClickOptions { Position = new Position { X = 5, Y = 300 } });
        await page.Locator($"tr[data-run-id='{ids[3]}']").FocusAsync();
        await page.Keyboard.PressAsync("x");
        await Assertions.Expect(page.Locator($"tr[data-run-id='{ids[3]}'] input.run-select")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator($"tr[data-run-id='{ids[3]}']")).ToHaveClassAsync(new Regex("is-selected"));
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("3");
        // A click on a checkbox selects; it never opens the run's modal.
        await Assertions.Expect(page.Locator("#run-detail-modal")).ToBeHiddenAsync();

        await page.Locator(".bulk-bar button[value=cancel]").ClickAsync();
        var dialog = page.Locator("#bulk-confirm");
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await Assertions.Expect(dialog.Locator("h2")).ToHaveTextAsync("Cancel 3 runs?");
        await Assertions.Expect(dialog.Locator(".bulk-typed")).ToBeHiddenAsync();
        await dialog.Locator(".bulk-confirm-go").ClickAsync();

        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#toasts .toast", new() { HasTextString = "3 succeeded" })).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator(".bulk-progress[data-status=completed]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table.runs-table tbody span.badge-cancelled")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator($"tr[data-run-id='{ids[0]}'] span.badge-queued")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("0");
    }

    [Fact]
    public async Task SelectAllMatching_TypedCountAbove100_ProgressToTheEnd()
    {
        var workflow = "bulk-ui-all-" + Guid.NewGuid().ToString("N")[..6];
        await SeedAsync(workflow, "failed", 104);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=" + workflow);
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-total")).ToHaveTextAsync("104");

        await page.Locator(".bulk-bar .bulk-select-all").CheckAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("104");
        await Assertions.Expect(page.Locator("table.runs-table tbody input.run-select:checked")).ToHaveCountAsync(20);
        await page.Locator(".bulk-bar button[value=retry]").ClickAsync();

        var dialog = page.Locator("#bulk-confirm");
        await Assertions.Expect(dialog.Locator("h2")).ToHaveTextAsync("Retry 104 runs?");
        var go = dialog.Locator(".bulk-confirm-go");
        await Assertions.Expect(dialog.Locator(".bulk-typed-input")).ToBeFocusedAsync();
        await Assertions.Expect(go).ToBeDisabledAsync();
        await page.Keyboard.TypeAsync("103");
        await Assertions.Expect(go).ToBeDisabledAsync();
        await dialog.Locator(".bulk-typed-input").FillAsync("104");
        await Assertions.Expect(go).ToBeEnabledAsync();
        await page.Keyboard.PressAsync("Enter");

        var progress = page.Locator(".bulk-progress");
        await Assertions.Expect(progress).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".bulk-progress[data-status=completed]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(progress.Locator(".bulk-done")).ToHaveTextAsync("104");
        await Assertions.Expect(progress.Locator(".bulk-succeeded")).ToHaveTextAsync("104");
        await Assertions.Expect(page.Locator("#toasts .toast", new() { HasTextString = "104 succeeded" })).ToHaveCountAsync(1, new() { Timeout = 10_000 });
        // The table was read again: the newest runs of the filter are now the queued retries.
        await Assertions.Expect(page.Locator("table.runs-table tbody span.badge-queued").First).ToBeVisibleAsync();
    }
}
