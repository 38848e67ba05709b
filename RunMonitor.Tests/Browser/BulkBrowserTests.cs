using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// Issue 15 in the browser: rows chosen with their checkboxes (and with x), a bulk cancel confirmed in the dialog, its
/// toast and the badges the refreshed table shows; "select all matching" with the typed count, followed to the end.
[Collection(BrowserCollection.Name)]
public sealed class BulkBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    /// Runs of three days ago: below every other browser test's runs in the unfiltered list, which those tests read.
    private async Task<List<string>> SeedAsync(string workflow, string status, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var createdAt = DateTimeOffset.UtcNow.AddDays(-3).AddSeconds(i);
            ids.Add((await fixture.Api.CreateRunAsync(new { workflowName = workflow, name = $"{workflow} {i}", status, createdAt })).GetProperty("id").GetString()!);
        }
        ids.Reverse(); // newest first, as the list shows them
        return ids;
    }

    /// A workflow of the test's own (`prefix` and a random tail) with `count` runs of `status` (newest first), and its
    /// runs page, open.
    private async Task<(List<string> Ids, IPage Page)> OpenSeededListAsync(string prefix, string status, int count)
    {
        var workflow = prefix + Guid.NewGuid().ToString("N")[..6];
        var ids = await SeedAsync(workflow, status, count);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=" + workflow);
        return (ids, page);
    }

    [Fact]
    public async Task ClickBesideTheBox_InItsCell_TogglesIt_TheActionsFollowTheSelection_AndNoModalOpens()
    {
        var (ids, page) = await OpenSeededListAsync("bulk-ui-cell-", "completed", 1);
        var cell = page.Locator($"tr[data-run-id='{ids[0]}'] td.select-cell");
        var corner = new LocatorClickOptions { Position = new Position { X = 2, Y = 2 } };

        var cancel = page.Locator(".bulk-bar button[value=cancel]");
        await Assertions.Expect(cancel).ToBeDisabledAsync();

        await cell.ClickAsync(corner);
        await Assertions.Expect(cell.Locator("input.run-select")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("1");
        await Assertions.Expect(cancel).ToBeEnabledAsync();
        await cell.ClickAsync(corner);

        await Assertions.Expect(cell.Locator("input.run-select")).Not.ToBeCheckedAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("0");
        await Assertions.Expect(cancel).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#run-detail-modal")).ToBeHiddenAsync();
    }

    /// A long list scrolls beneath the bar while runs are chosen: the bar stays in view over the rows, under the sticky
    /// header on a laptop and at the screen's top on a phone (where the header scrolls away), its actions in reach; a
    /// row reached with k stops below it, not under it. With nothing chosen it keeps its place above the table.
    [Theory]
    [InlineData(1280)]
    [InlineData(390)]
    public async Task LongList_WithASelection_TheBarStaysInViewOverTheRows_ARowReachedWithKIsNotUnderIt(int width)
    {
        var workflow = "bulk-ui-sticky-" + Guid.NewGuid().ToString("N")[..6];
        var ids = await SeedAsync(workflow, "completed", 30);
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        await page.GotoAsync(fixture.BaseUrl + $"/ui/runs?layer_name={workflow}&limit=50");
        const string Measure =
            """
            () => { const bar = document.querySelector('.bulk-bar').getBoundingClientRect(), head = document.querySelector('.topbar').getBoundingClientRect();
                    const hit = document.elementFromPoint(bar.left + 4, bar.top + bar.height / 2);
                    return [bar.top, bar.bottom, head.bottom, window.innerHeight, hit && hit.closest('.bulk-bar') ? 1 : 0]; }
            """;

        await page.Locator($"tr[data-run-id='{ids[^1]}']").ScrollIntoViewIfNeededAsync();
        var unchosen = await page.EvaluateAsync<double[]>(Measure);
        Assert.True(unchosen[1] <= 0, $"at {width} px with nothing chosen the bar stayed in view at {unchosen[0]:F1}");

        await page.Locator($"tr[data-run-id='{ids[^1]}'] input.run-select").CheckAsync();
        await page.Locator($"tr[data-run-id='{ids[0]}']").ScrollIntoViewIfNeededAsync();
        await page.Locator($"tr[data-run-id='{ids[^1]}']").ScrollIntoViewIfNeededAsync();
        var m = await page.EvaluateAsync<double[]>(Measure);
        var expectedTop = width < 640 ? 0 : m[2];
        Assert.True(Math.Abs(m[0] - expectedTop) < 1, $"at {width} px the bar's top is at {m[0]:F1}, not at {expectedTop:F1} (header's bottom {m[2]:F1})");
        Assert.True(m[1] < m[3] / 4, $"at {width} px the bar ends at {m[1]:F1} of {m[3]} px: more than a quarter of the screen");
        Assert.True(m[4] == 1, $"at {width} px the rows are drawn over the bar");
        await Assertions.Expect(page.Locator(".bulk-bar button[value=cancel]")).ToBeInViewportAsync();

        // k from the last row up the list: each row it reaches shows below the bar.
        await page.Locator($"tr[data-run-id='{ids[^1]}']").FocusAsync();
        for (var i = 0; i < 12; i++) await page.Keyboard.PressAsync("k");
        var row = page.Locator($"tr[data-run-id='{ids[^13]}']");
        await Assertions.Expect(row).ToBeFocusedAsync();
        var rowTop = await row.EvaluateAsync<double>("r => r.getBoundingClientRect().top");
        var barBottom = await page.EvaluateAsync<double>("() => document.querySelector('.bulk-bar').getBoundingClientRect().bottom");
        Assert.True(rowTop >= barBottom - 0.5, $"at {width} px the focused row's top {rowTop:F1} is under the bar, which ends at {barBottom:F1}");
    }

    [Fact]
    public async Task AnotherFilter_DropsTheSelection_APageOrPollOfTheSameFilterKeepsIt()
    {
        var workflow = "bulk-ui-filter-" + Guid.NewGuid().ToString("N")[..6];
        var failed = await SeedAsync(workflow, "failed", 3);
        await SeedAsync(workflow, "completed", 1);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + $"/ui/runs?layer_name={workflow}&status=failed&limit=10");

        await page.Locator($"tr[data-run-id='{failed[0]}'] input.run-select").CheckAsync();
        await page.Locator($"tr[data-run-id='{failed[1]}'] input.run-select").CheckAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("2");
        // The same filter sorted another way is the same runs: still chosen.
        await page.Locator("table.runs-table thead th.sortable a", new() { HasTextString = "Duration" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("sort=-duration"));
        await Assertions.Expect(page.Locator($"tr[data-run-id='{failed[0]}'] input.run-select")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("2");

        await page.Locator("select[name=status]").SelectOptionAsync("completed");

        await Assertions.Expect(page.Locator("table.runs-table tbody span.badge-completed")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator(".bulk-bar button[value=retry]")).ToBeDisabledAsync();
    }

    [Fact]
    public async Task WithoutJavaScript_TheBulkDialogIsNotShown_TheBarPostsToBulk()
    {
        await using var context = await fixture.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs");

        await Assertions.Expect(page.Locator("form#bulk-form .bulk-bar")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#bulk-confirm")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task NothingMatches_NoSelectAllOfZero()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?q=zzzz-bulk-no-such-run");

        await Assertions.Expect(page.Locator(".empty-state")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-all")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator(".bulk-bar button[value=retry]")).ToBeDisabledAsync();
    }

    [Fact]
    public async Task SelectThreeRows_BulkCancel_ToastAndBadgesChange()
    {
        var (ids, page) = await OpenSeededListAsync("bulk-ui-three-", "queued", 4);
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(4);

        // Queued runs keep the table polling (every 5 s): held still while rows are picked, so a click never lands on a row
        // being swapped out (the selection itself outlives swaps: BulkPageTests and the refresh after the operation).
        await page.RouteAsync("**/ui/runs/list**", route => route.FulfillAsync(new() { Status = 204 }));
        // Two by mouse, one by keyboard: x selects the focused row.
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

        await page.UnrouteAsync("**/ui/runs/list**");
        await Assertions.Expect(page.Locator(".bulk-bar button[value=cancel]")).ToHaveTextAsync("Cancel runs");
        await page.Locator(".bulk-bar button[value=cancel]").ClickAsync();
        var dialog = page.Locator("#bulk-confirm");
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await Assertions.Expect(dialog.Locator("h2")).ToHaveTextAsync("Cancel 3 runs?");
        // Every selected run can take it: no "others" are spoken of.
        await Assertions.Expect(dialog.Locator(".bulk-confirm-text")).ToHaveTextAsync("“Cancel runs” applies to all 3 selected runs.");
        await Assertions.Expect(dialog.Locator(".bulk-confirm-go")).ToHaveTextAsync("Cancel 3 runs");
        await Assertions.Expect(dialog.Locator(".bulk-typed")).ToBeHiddenAsync();
        await dialog.Locator(".bulk-confirm-go").ClickAsync();

        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#toasts .toast", new() { HasTextString = "Cancellation of 3 runs started." })).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#toasts .toast", new() { HasTextString = "3 succeeded" })).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator(".bulk-progress[data-status=completed]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table.runs-table tbody span.badge-cancelled")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator($"tr[data-run-id='{ids[0]}'] span.badge-queued")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("0");
        // Nothing of this test stays queued for the others.
        Assert.True((await fixture.Api.DeleteAsync($"/api/runs/{ids[0]}")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task SuperAdminOnOneTenantsList_CancelsThatTenantsRun_NotAnotherTenantsOfTheSameId()
    {
        var workflow = "bulk-ui-tenant-" + Guid.NewGuid().ToString("N")[..6];
        var shared = "shared-" + Guid.NewGuid().ToString("N")[..8];
        var createdAt = DateTimeOffset.UtcNow.AddDays(-3);
        foreach (var tenantId in new[] { "alpha", "beta" })
            await fixture.Api.CreateRunAsync(new { id = shared, tenantId, workflowName = workflow, status = "queued", createdAt });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + $"/ui/runs?tenant=beta&layer_name={workflow}");

        await page.Locator($"tr[data-run-id='{shared}'] input.run-select").CheckAsync();
        await page.Locator(".bulk-bar button[value=cancel]").ClickAsync();
        var dialog = page.Locator("#bulk-confirm");
        await Assertions.Expect(dialog.Locator(".bulk-confirm-text")).ToContainTextAsync("the selected run.");
        await dialog.Locator(".bulk-confirm-go").ClickAsync();

        await Assertions.Expect(page.Locator("#toasts .toast", new() { HasTextString = "1 succeeded" })).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        Assert.Equal("cancelled", (string)(await fixture.Api.GetJsonAsync($"/api/runs/{shared}?tenant=beta"))["status"]!);
        Assert.Equal("queued", (string)(await fixture.Api.GetJsonAsync($"/api/runs/{shared}?tenant=alpha"))["status"]!);
        Assert.True((await fixture.Api.DeleteAsync($"/api/runs/{shared}?tenant=alpha")).IsSuccessStatusCode);
    }

    /// Runs arrive after the bar was drawn: the dialog says the count moved before anything runs ("Now 5 runs match — was
    /// 3"), and a count that moves again while the dialog is open is refused by the server and said the same way, with
    /// the new count to confirm; nothing is done until a count the server agrees with is confirmed.
    [Fact]
    public async Task CountChangedAfterTheBarWasDrawn_TheDialogSaysNowAndWas_AgainAtConfirm_ThenActsOnTheNewCount()
    {
        var (_, page) = await OpenSeededListAsync("bulk-ui-moved-", "queued", 3);
        var workflow = new Uri(page.Url).Query["?layer_name=".Length..];
        // The list stays as drawn (queued runs poll it every 5 s): the bar keeps saying 3, as a bar drawn a moment ago does.
        await page.RouteAsync("**/ui/runs/list**", route => route.FulfillAsync(new() { Status = 204 }));
        await page.Locator(".bulk-bar .bulk-select-all").CheckAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("3");

        await SeedAsync(workflow, "queued", 2);
        await page.Locator(".bulk-bar button[value=cancel]").ClickAsync();

        var dialog = page.Locator("#bulk-confirm");
        var changed = dialog.Locator(".bulk-confirm-changed");
        await Assertions.Expect(dialog.Locator("h2")).ToHaveTextAsync("Cancel 5 runs?");
        await Assertions.Expect(changed).ToBeVisibleAsync();
        await Assertions.Expect(changed).ToHaveTextAsync("Now 5 runs match — was 3 when the list was shown.");

        await SeedAsync(workflow, "queued", 1);
        await dialog.Locator(".bulk-confirm-go").ClickAsync();

        await Assertions.Expect(dialog.Locator("h2")).ToHaveTextAsync("Cancel 6 runs?");
        await Assertions.Expect(changed).ToHaveTextAsync("Now 6 runs can take “Cancel runs” — was 5. Nothing was done: confirm the new count.");
        await Assertions.Expect(dialog.Locator(".bulk-confirm-go")).ToHaveTextAsync("Cancel 6 runs");
        await Assertions.Expect(dialog.Locator(".bulk-confirm-go")).ToBeEnabledAsync();
        Assert.Equal(6L, (long?)(await fixture.Api.GetJsonAsync($"/api/runs?workflow={workflow}&status=queued"))["total"]);

        await page.UnrouteAsync("**/ui/runs/list**");
        await dialog.Locator(".bulk-confirm-go").ClickAsync();

        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#toasts .toast", new() { HasTextString = "Cancellation of 6 runs started." })).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#toasts .toast", new() { HasTextString = "6 succeeded" })).ToHaveCountAsync(1, new() { Timeout = 20_000 });
    }

    [Fact]
    public async Task SelectAllMatching_TypedCountAbove100_ProgressToTheEnd()
    {
        // Cancelled rather than retried: a retry would put 104 new runs on top of the list the other browser tests read.
        var (_, page) = await OpenSeededListAsync("bulk-ui-all-", "queued", 104);
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-total")).ToHaveTextAsync("104");

        await page.Locator(".bulk-bar .bulk-select-all").CheckAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-count-value")).ToHaveTextAsync("104");
        await Assertions.Expect(page.Locator("table.runs-table tbody input.run-select:checked")).ToHaveCountAsync(20);
        await page.Locator(".bulk-bar button[value=cancel]").ClickAsync();

        var dialog = page.Locator("#bulk-confirm");
        await Assertions.Expect(dialog.Locator("h2")).ToHaveTextAsync("Cancel 104 runs?");
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
        // The table was read again: every row of the filter is cancelled now.
        await Assertions.Expect(page.Locator("table.runs-table tbody span.badge-cancelled")).ToHaveCountAsync(20);
        await Assertions.Expect(page.Locator("table.runs-table tbody span.badge-queued")).ToHaveCountAsync(0);
    }

    /// After a bulk action the person follows its card to the operation's page (its runs and what became of them), and
    /// finds it again later from the navigation's Bulk page.
    [Fact]
    public async Task ProgressCardLink_OpensTheOperationsPage_NavigationBulk_ListsItAndLeadsBack()
    {
        var (ids, page) = await OpenSeededListAsync("bulk-ui-page-", "queued", 2);
        await page.Locator(".bulk-bar .bulk-select-all").CheckAsync();
        await page.Locator(".bulk-bar button[value=cancel]").ClickAsync();
        await page.Locator("#bulk-confirm .bulk-confirm-go").ClickAsync();
        var card = page.Locator(".bulk-progress[data-status=completed]");
        await Assertions.Expect(card).ToBeVisibleAsync(new() { Timeout = 20_000 });
        var id = await card.GetAttributeAsync("data-operation");

        await card.Locator("a.bulk-page-link").ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/bulk/{id}$"));
        var rows = page.Locator("table.bulk-items-table tbody tr.bulk-item");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        // The operation's order is the runs' own, oldest first; each is cancelled now.
        Assert.Equal(ids.AsEnumerable().Reverse(), await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.runId)"));
        await Assertions.Expect(page.Locator("tr.bulk-item .bulk-run-now .badge-cancelled")).ToHaveCountAsync(2);
        // The operation's page is of the Bulk section, as a run's page is of Runs.
        await Assertions.Expect(page.Locator("header nav a[href='/bulk']")).ToHaveAttributeAsync("aria-current", "page");

        await page.Locator("header nav a[href='/bulk']").ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/bulk$"));
        var row = page.Locator($"table.bulk-operations tbody tr[data-operation='{id}']");
        await Assertions.Expect(row.Locator(".bulk-status")).ToHaveTextAsync("completed");
        await row.Locator("a.bulk-operation-name").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/bulk/{id}$"));
        await page.Locator($"tr.bulk-item[data-run-id='{ids[0]}'] a.run-name").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/runs/{ids[0]}"));
    }

    /// The operation's runs are read again when its card's last poll says runsChanged: here said by hand after the run a
    /// retry made was cancelled, so the table shows its status now without a reload.
    [Fact]
    public async Task OperationPage_RunsChanged_ReadsItsRunsAgain()
    {
        var workflow = "bulk-ui-again-" + Guid.NewGuid().ToString("N")[..6];
        var failed = await SeedAsync(workflow, "failed", 1);
        var started = await fixture.Api.PostAsJsonAsync("/api/bulk", new { action = "retry", ids = failed, expectedCount = 1 });
        var id = (await started.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetInt64();
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + $"/bulk/{id}");
        var retry = page.Locator($"tr.bulk-item[data-run-id='{failed[0]}'] .bulk-retry");
        await Assertions.Expect(retry.Locator(".badge-queued")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        var newRun = await retry.Locator("a.bulk-new-run").TextContentAsync();

        // Nothing of this test stays queued for the others.
        Assert.True((await fixture.Api.DeleteAsync($"/api/runs/{newRun}")).IsSuccessStatusCode);
        await page.EvaluateAsync("() => htmx.trigger(document.body, 'runsChanged')");

        await Assertions.Expect(retry.Locator(".badge-cancelled")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("section#bulk-items")).ToHaveCountAsync(1);
    }
}
