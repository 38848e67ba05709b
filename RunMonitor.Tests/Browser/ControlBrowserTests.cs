using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RunMonitor.Web.Data;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// Retry and cancel through their confirmation dialogs in the modal, and a running run's live
/// block following the run while an engine drives it through the API.
[Collection(BrowserCollection.Name)]
public sealed class ControlBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    private static readonly string ScreenshotDir = Path.Combine(Path.GetTempPath(), "runmonitor-control-screens");

    private async Task<string> FailedRunAsync(string workflow)
    {
        var id = (await fixture.Api.CreateRunAsync(new
        {
            workflowName = workflow, name = "Browser retry", status = "running",
            steps = new[] { new { stepId = "fetch" }, new { stepId = "reflect" }, new { stepId = "store" } },
        })).GetProperty("id").GetString()!;
        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/fetch", new { status = "completed", output = new { rows = 3 } });
        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/reflect", new { status = "failed", error = new { message = "model timeout" } });
        await fixture.Api.PatchJsonAsync($"/api/runs/{id}", new { status = "failed", error = new { message = "model timeout" } });
        return id;
    }

    // Headless Chromium cannot show notifications: record them instead.
    private const string NotificationStub = """
        window.__notes = [];
        window.Notification = class {
            constructor(title, options) { window.__notes.push(title + " | " + (options && options.body)); }
            static get permission() { return window.__permission || "default"; }
            static requestPermission() { window.__permission = "granted"; return Promise.resolve("granted"); }
        };
        """;

    private async Task<IPage> OpenModalAsync(string workflow, string runId, string? initScript = null)
    {
        var page = await fixture.NewPageAsync();
        if (initScript is not null) await page.AddInitScriptAsync(initScript);
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=" + workflow);
        await page.Locator($"tr[data-run-id='{runId}']").ClickAsync();
        await Assertions.Expect(page.Locator("#run-detail-modal .modal-content")).ToBeVisibleAsync();
        return page;
    }

    /// For a person looking at the dialogs (RUNMONITOR_TEST_SCREENSHOTS=1): a picture asserts nothing, and taking
    /// one on a loaded machine is the slowest thing a test here does, so the suite does not take them by default.
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("RUNMONITOR_TEST_SCREENSHOTS") != "1") return;
        Directory.CreateDirectory(ScreenshotDir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), Timeout = 60_000 });
    }

    [Fact]
    public async Task Retry_ThroughConfirmationDialog_ShowsToastLinkAndRefreshesTable()
    {
        var id = await FailedRunAsync("browser-retry");
        var page = await OpenModalAsync("browser-retry", id);
        var retry = page.Locator("#run-detail-modal .run-actions button[data-action=retry]");
        var dialog = page.Locator($"dialog[id='modal-retry-dialog-{id}']");

        // Escape cancels: the dialog closes, the modal stays, nothing is queued.
        await retry.ClickAsync();
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        Assert.True(await dialog.EvaluateAsync<bool>("d => d.contains(document.activeElement)"));
        await ScreenshotAsync(page, "retry-dialog");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#run-detail-modal")).ToBeVisibleAsync();
        await Assertions.Expect(retry).ToBeFocusedAsync();
        Assert.Equal(1L, (long?)(await fixture.Api.GetJsonAsync("/api/runs?workflow=browser-retry"))["total"]);

        // Confirm: a new run is queued, the toast says so, the new run is one click away.
        await retry.ClickAsync();
        await dialog.Locator("button[data-confirm]").ClickAsync();

        var toast = page.Locator("#toasts .toast-success");
        await Assertions.Expect(toast).ToContainTextAsync("Retry queued as run");
        var notice = page.Locator("#run-detail-modal .run-action-notice a");
        await Assertions.Expect(notice).ToBeVisibleAsync();
        var href = await notice.GetAttributeAsync("href");
        Assert.StartsWith("/runs/", href);
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator($"tr[data-run-id='{href!["/runs/".Length..]}']")).ToHaveCountAsync(1);
        await ScreenshotAsync(page, "retry-done");
    }

    [Fact]
    public async Task Cancel_FinishedMeanwhile_ErrorComesBackAsToast()
    {
        var id = (await fixture.Api.CreateRunAsync(new { workflowName = "browser-cancel", name = "Browser cancel" })).GetProperty("id").GetString()!;
        var page = await OpenModalAsync("browser-cancel", id);
        // Let the live block's first refresh (on connect) land before the run changes underneath.
        await Assertions.Expect(page.Locator("#run-detail-modal .run-live")).ToHaveAttributeAsync("data-sse-open", "");
        await page.WaitForTimeoutAsync(1000);
        // Another instance ends the run while this modal is open (no event reaches this one).
        var database = fixture.Factory.Services.GetRequiredService<Database>();
        await database.WriteAsync((connection, tx) => connection.ExecuteAsync(
            "UPDATE runs SET status = 'cancelled', completed_at = updated_at WHERE id = @Id", new { Id = id }, tx));

        await page.Locator("#run-detail-modal .run-actions button[data-action=cancel]").ClickAsync();
        await page.Locator($"dialog[id='modal-cancel-dialog-{id}'] button[data-confirm]").ClickAsync();

        await Assertions.Expect(page.Locator("#toasts .toast-error")).ToContainTextAsync("run is cancelled");
        await Assertions.Expect(page.Locator($"dialog[id='modal-cancel-dialog-{id}']")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Live_RunningRun_UpdatesWithoutReloadAndToastsWhenFinished()
    {
        var id = (await fixture.Api.CreateRunAsync(new
        {
            workflowName = "browser-live", name = "Browser live", status = "running",
            steps = new[] { new { stepId = "one" }, new { stepId = "two" } },
        })).GetProperty("id").GetString()!;
        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/one", new { status = "running" });
        var page = await OpenModalAsync("browser-live", id, NotificationStub);
        var notify = page.Locator("#run-detail-modal [data-notify-toggle]");
        await notify.ClickAsync();
        await Assertions.Expect(page.Locator("#toasts .toast-success")).ToContainTextAsync("notifications are on");
        await Assertions.Expect(notify).ToBeHiddenAsync();
        await page.EvaluateAsync("() => window.__marker = 'same page'");
        var live = page.Locator("#run-detail-modal .run-live");
        await Assertions.Expect(live).ToHaveAttributeAsync("data-sse-open", "");

        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/one", new { status = "completed" });
        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/two", new { status = "running" });

        // Faster than the 5 s poll: the event stream brought it.
        await Assertions.Expect(live.Locator(".live-step[data-step-id=one]")).ToHaveAttributeAsync("data-step-status", "completed", new() { Timeout = 4000 });
        await Assertions.Expect(live.Locator(".live-step[data-step-id=two]")).ToHaveAttributeAsync("data-step-status", "running");
        await Assertions.Expect(live.Locator(".run-live-count")).ToHaveTextAsync("1 of 2 steps completed");
        await ScreenshotAsync(page, "live-running");

        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/two", new { status = "completed" });
        await fixture.Api.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });

        // The modal reloads itself on the status change: badge, actions and metrics all current.
        await Assertions.Expect(page.Locator("#run-detail-modal .run-status span.badge")).ToHaveTextAsync("completed", new() { Timeout = 4000 });
        await Assertions.Expect(page.Locator("#toasts [role=status]", new() { HasTextString = "finished: completed" })).ToHaveCountAsync(1);
        await Assertions.Expect(live).Not.ToHaveAttributeAsync("data-sse-connect", new System.Text.RegularExpressions.Regex(".*"));
        await Assertions.Expect(live.Locator(".live-step[data-step-id=two]")).ToHaveAttributeAsync("data-step-status", "completed");
        await Assertions.Expect(page.Locator("#run-detail-modal .run-actions button[data-action=cancel]")).ToHaveCountAsync(0);
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__marker"));
        Assert.Equal([$"Run completed | Browser live ({id})"], await page.EvaluateAsync<string[]>("() => window.__notes"));
        await ScreenshotAsync(page, "live-finished");
    }

    [Fact]
    public async Task Live_RefreshRightBehindTheFinishingOne_DoesNotAnnounceItAgain()
    {
        var id = (await fixture.Api.CreateRunAsync(new { workflowName = "browser-live-once", name = "Browser live once", status = "running" }))
            .GetProperty("id").GetString()!;
        var page = await OpenModalAsync("browser-live-once", id);
        var body = page.Locator("#run-detail-modal .run-live-body[data-live-poll]");
        await Assertions.Expect(page.Locator("#run-detail-modal .run-live")).ToHaveAttributeAsync("data-sse-open", "");
        // Hold the modal's own reload, so the live block stays while more refreshes come in.
        var release = new TaskCompletionSource();
        await page.RouteAsync(new System.Text.RegularExpressions.Regex($"/ui/runs/{id}(\\?|$)"), async route =>
        {
            await release.Task;
            await route.ContinueAsync();
        });
        try
        {
            await fixture.Api.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
            var finished = page.Locator("#toasts [role=status]", new() { HasTextString = "finished: completed" });
            await Assertions.Expect(finished).ToHaveCountAsync(1, new() { Timeout = 8000 });
            await Assertions.Expect(body.Locator(".run-live-state")).ToHaveAttributeAsync("data-run-status", "completed");

            // One more refresh (the poll or a late event) asks with what the block shows now.
            var url = await body.EvaluateAsync<string>("""
                el => new Promise(done => {
                    el.addEventListener("htmx:afterRequest", e => done(e.detail.pathInfo.finalRequestPath), { once: true });
                    htmx.trigger(el, "sse:run");
                })
                """);
            await Assertions.Expect(finished).ToHaveCountAsync(1);
            Assert.Contains("seen=completed", url);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    /// A running run of two steps (`one`, `two`) and its run page, open.
    private async Task<(string Id, IPage Page)> RunPageOfARunningRunAsync(string workflow)
    {
        var id = (await fixture.Api.CreateRunAsync(new
        {
            workflowName = workflow, name = "Browser page", status = "running",
            steps = new[] { new { stepId = "one" }, new { stepId = "two" } },
        })).GetProperty("id").GetString()!;
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/runs/" + id);
        return (id, page);
    }

    [Fact]
    public async Task RunPage_RunEndsWhileAStepIsOpen_TheReloadedPageKeepsTheStep()
    {
        var (id, page) = await RunPageOfARunningRunAsync("browser-page-step");
        await Assertions.Expect(page.Locator(".run-live")).ToHaveAttributeAsync("data-sse-open", "");
        await page.Locator("#step-timeline .step-chip[data-step-id=two]").ClickAsync();
        await Assertions.Expect(page.Locator("#step-panel .step-panel[data-step-id=two]")).ToBeVisibleAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("[?&]step=two"));

        await fixture.Api.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });

        await Assertions.Expect(page.Locator(".run-head-status span.badge")).ToHaveTextAsync("completed", new() { Timeout = 4000 });
        await Assertions.Expect(page.Locator("#step-panel .step-panel[data-step-id=two]")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task RunPage_FollowsRunLiveThenRetriesItAndLinksToTheNewRun()
    {
        var (id, page) = await RunPageOfARunningRunAsync("browser-page");
        var live = page.Locator(".run-live");
        await Assertions.Expect(live).ToHaveAttributeAsync("data-sse-open", "");
        await Assertions.Expect(page.Locator(".run-actions button[data-action=cancel]")).ToBeVisibleAsync();

        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/one", new { status = "failed", error = new { message = "bad input" } });
        // The page draws its steps once, in the timeline, which the event stream refreshes sooner than its 5 s poll.
        await Assertions.Expect(page.Locator("#step-timeline .step-chip[data-step-id=one]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bstep-failed\b"), new() { Timeout = 4000 });
        await Assertions.Expect(live.Locator(".live-step")).ToHaveCountAsync(0);
        await fixture.Api.PatchJsonAsync($"/api/runs/{id}", new { status = "failed", error = new { message = "bad input" } });

        // The page reloads its main region on the status change: head badge, actions, timeline.
        await Assertions.Expect(page.Locator(".run-head-status span.badge")).ToHaveTextAsync("failed", new() { Timeout = 4000 });
        await Assertions.Expect(page.Locator(".run-actions button[data-action=cancel]")).ToHaveCountAsync(0);
        await page.Locator(".run-actions button[data-action=retry-failed]").ClickAsync();
        await page.Locator($"dialog[id='page-retry-failed-dialog-{id}'] button[data-confirm]").ClickAsync();
        var link = page.Locator(".run-actions .run-action-notice a");
        await Assertions.Expect(page.Locator(".run-actions .run-action-notice")).ToBeFocusedAsync();
        await ScreenshotAsync(page, "run-page-retried");
        await link.ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/runs/[0-9a-f]+$"));
        Assert.NotEqual(fixture.BaseUrl + "/runs/" + id, page.Url);
        await Assertions.Expect(page.Locator(".run-head-status span.badge")).ToHaveTextAsync("queued");
        await Assertions.Expect(page.Locator(".fact-retry-of a")).ToHaveTextAsync(id);
    }

    [Fact]
    public async Task Live_EventStreamBlocked_FallsBackToFiveSecondPolling()
    {
        var id = (await fixture.Api.CreateRunAsync(new
        {
            workflowName = "browser-poll", name = "Browser poll", status = "running", steps = new[] { new { stepId = "only" } },
        })).GetProperty("id").GetString()!;
        var page = await fixture.NewPageAsync();
        // As behind a proxy that refuses event streams.
        await page.RouteAsync("**/events", route => route.AbortAsync());
        await page.GotoAsync(fixture.BaseUrl + "/runs/" + id);
        var live = page.Locator(".run-live");
        var chip = page.Locator("#step-timeline .step-chip[data-step-id=only]");
        await Assertions.Expect(chip).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bstep-pending\b"));

        await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/only", new { status = "running" });

        await Assertions.Expect(chip).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bstep-running\b"), new() { Timeout = 8000 });
        Assert.Null(await live.GetAttributeAsync("data-sse-open"));
    }

    /// The errors a page writes to the browser's console, from now on.
    private static List<string> ConsoleErrors(IPage page)
    {
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") lock (errors) errors.Add(message.Text); };
        return errors;
    }

    /// Holds the first request of the run's live block (`/ui/runs/{id}/live`) until `release`; the rest pass. Answers
    /// when that first one was sent.
    private static async Task<Task> HoldFirstLiveRequestAsync(IPage page, string id, Task release)
    {
        var sent = new TaskCompletionSource();
        var seen = 0;
        await page.RouteAsync(new System.Text.RegularExpressions.Regex($"/ui/runs/{id}/live\\?"), async route =>
        {
            if (Interlocked.Increment(ref seen) == 1)
            {
                sent.TrySetResult();
                await release;
            }
            // A request the page gave up meanwhile cannot be continued.
            try { await route.ContinueAsync(); } catch (PlaywrightException) { }
        });
        return sent.Task;
    }

    /// The 5 s poll is on its way when the event stream opens (slow to connect, or back after a drop): the stream's
    /// first refresh follows it rather than cutting it short, so the console stays clean (htmx wrote the cut poll as
    /// two errors, htmx:afterRequest and htmx:sendAbort).
    [Fact]
    public async Task Live_PollOnItsWayWhenTheStreamOpens_NoConsoleError()
    {
        var id = (await fixture.Api.CreateRunAsync(new { workflowName = "browser-live-quiet", name = "Quiet", status = "running" }))
            .GetProperty("id").GetString()!;
        var page = await fixture.NewPageAsync();
        var errors = ConsoleErrors(page);
        var stream = new TaskCompletionSource();
        var poll = new TaskCompletionSource();
        await page.RouteAsync($"**/ui/runs/{id}/events*", async route =>
        {
            await stream.Task;
            try { await route.ContinueAsync(); } catch (PlaywrightException) { }
        });
        var polled = await HoldFirstLiveRequestAsync(page, id, poll.Task);
        var settled = 0;
        page.RequestFinished += (_, request) => { if (request.Url.Contains("/live?")) Interlocked.Increment(ref settled); };
        page.RequestFailed += (_, request) => { if (request.Url.Contains("/live?")) Interlocked.Increment(ref settled); };
        await page.GotoAsync(fixture.BaseUrl + "/runs/" + id);
        try
        {
            await polled.WaitAsync(TimeSpan.FromSeconds(15));
            stream.TrySetResult();
            // Its first event (`run`, sent on connect) asks for a refresh while the poll is still out.
            await Assertions.Expect(page.Locator(".run-live")).ToHaveAttributeAsync("data-sse-open", "");
        }
        finally
        {
            poll.TrySetResult();
            stream.TrySetResult();
        }

        // The held poll, and the stream's refresh after it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref settled) < 2 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(Volatile.Read(ref settled) >= 2, "the live block's requests did not settle");
        await Assertions.Expect(page.Locator(".run-live-body .run-live-state")).ToHaveAttributeAsync("data-run-status", "running");
        lock (errors) Assert.Empty(errors);
        await Assertions.Expect(page.Locator("#toasts .toast-error")).ToHaveCountAsync(0);
    }

    /// A refresh on its way when the person leaves the page (a link, another address) ends quietly too.
    [Fact]
    public async Task Live_PageLeftWhileARefreshIsOnItsWay_NoConsoleError()
    {
        var (id, page) = await RunPageOfARunningRunAsync("browser-live-leave");
        var errors = ConsoleErrors(page);
        await Assertions.Expect(page.Locator(".run-live")).ToHaveAttributeAsync("data-sse-open", "");
        var release = new TaskCompletionSource();
        var refreshing = await HoldFirstLiveRequestAsync(page, id, release.Task);
        try
        {
            await fixture.Api.PutAsJsonAsync($"/api/runs/{id}/steps/one", new { status = "running" });
            await refreshing.WaitAsync(TimeSpan.FromSeconds(10));

            await page.Locator("nav[aria-label=Main] a", new() { HasTextString = "Runs" }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs");
            await Assertions.Expect(page.Locator("table.runs-table")).ToBeVisibleAsync();
        }
        finally
        {
            release.TrySetResult();
        }

        lock (errors) Assert.Empty(errors);
    }

    /// Quiet is for requests the page itself gave up: a refresh the server does not answer still says so.
    [Fact]
    public async Task Live_RefreshFails_ToastSaysTheServerCouldNotBeReached()
    {
        var id = (await fixture.Api.CreateRunAsync(new { workflowName = "browser-live-down", name = "Down", status = "running" }))
            .GetProperty("id").GetString()!;
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/runs/" + id);
        await Assertions.Expect(page.Locator(".run-live")).ToHaveAttributeAsync("data-sse-open", "");
        await page.RouteAsync(new System.Text.RegularExpressions.Regex($"/ui/runs/{id}/live\\?"), route => route.AbortAsync("connectionrefused"));

        await fixture.Api.PatchJsonAsync($"/api/runs/{id}", new { metrics = new { targetsMatched = 3 } });

        await Assertions.Expect(page.Locator("#toasts .toast-error")).ToContainTextAsync("could not be reached", new() { Timeout = 8000 });
    }

    [Fact]
    public async Task RunPage_WithJavaScriptOff_TheConfirmationIsAFormInPlace_AndRetryPosts()
    {
        var id = await FailedRunAsync("browser-control-nojs");
        await using var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();

        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        var retry = page.Locator("dialog.confirm-dialog form", new() { Has = page.Locator("h2", new() { HasText = "Retry this run?" }) });
        await Assertions.Expect(retry).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".run-actions-buttons [data-dialog-open]").First).ToBeHiddenAsync();
        await page.NavigatesToAsync(url => url.Contains("/runs/") && !url.Contains(id), () => retry.Locator("button[type=submit]").ClickAsync());
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Browser retry");
        var newId = page.Url[(page.Url.IndexOf("/runs/", StringComparison.Ordinal) + "/runs/".Length)..].Split('?')[0];
        Assert.Equal(id, (await fixture.Api.GetJsonAsync($"/api/runs/{newId}"))["retryOf"]!.GetValue<string>());
    }
}
