using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Alerts;

namespace RunMonitor.Tests.Browser;

/// Issue 17 in a real browser: the alert banner appears on every page while a rule fires, links to the runs that make
/// it fire, and goes by itself (polled) once the rule resolves; the workers page shows a new worker without a reload;
/// axe finds nothing on either, light and dark, desk and phone.
[Collection(BrowserCollection.Name)]
public sealed class WorkersAlertsBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    public const string Rule = "browser-queue";
    public const string Workflow = "alert-banner-wf";

    private static readonly SemaphoreSlim Serial = new(1, 1);

    private Task EvaluateAsync() => fixture.Factory.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync();

    private async Task<string> QueueAsync() =>
        (await fixture.Api.CreateRunAsync(new { workflowName = Workflow, name = "Waiting for a worker" })).GetProperty("id").GetString()!;

    [Fact]
    public async Task Banner_ShowsWhileTheRuleFires_LinksToTheRuns_LeavesByItselfWhenResolved()
    {
        await Serial.WaitAsync();
        try
        {
            var id = await QueueAsync();
            await EvaluateAsync();
            var page = await fixture.NewPageAsync();

            await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
            var banner = page.Locator($"#alert-banner-slot .alert-banner [data-rule='{Rule}']");
            await Assertions.Expect(banner).ToContainTextAsync("1 run queued (threshold 1)");
            await page.NavigatesToAsync(url => url.Contains("/ui/runs?workflow=alert-banner-wf&status=queued", StringComparison.Ordinal),
                () => banner.Locator("a").ClickAsync());
            await Assertions.Expect(page.Locator($"table.runs-table tbody tr[data-run-id='{id}']")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(1);
            await Assertions.Expect(page.Locator($".alert-banner [data-rule='{Rule}']")).ToBeVisibleAsync();

            Assert.True((await fixture.Api.DeleteAsync($"/api/runs/{id}")).IsSuccessStatusCode);
            await EvaluateAsync();

            // The page is not reloaded: its poll of /ui/alerts/banner (every 15 s) takes the banner away.
            await Assertions.Expect(page.Locator(".alert-banner")).ToHaveCountAsync(0, new() { Timeout = 25_000 });
            await page.Context.CloseAsync();
        }
        finally
        {
            Serial.Release();
        }
    }

    /// A screen reader hears a rule start firing once, and stop once: the page's polite status changes only when the set
    /// of firing rules does, not on a poll that brings the same rule with a new value.
    [Fact]
    public async Task Banner_ANewAlertIsAnnouncedOnce_NotOnEveryPoll()
    {
        await Serial.WaitAsync();
        var queued = new List<string>();
        try
        {
            var page = await fixture.NewPageAsync();
            await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
            await Assertions.Expect(page.Locator(".alert-banner")).ToHaveCountAsync(0);
            await Assertions.Expect(page.Locator("#alert-announcer")).ToHaveTextAsync("");
            await page.EvaluateAsync(
                """
                () => { const said = document.getElementById('alert-announcer'); window.__said = [];
                        new MutationObserver(() => window.__said.push(said.textContent)).observe(said, { childList: true, characterData: true, subtree: true }); }
                """);
            // One poll of the banner, as its every-15-s trigger makes.
            const string Poll =
                "() => new Promise(done => { document.addEventListener('htmx:afterSettle', done, { once: true }); htmx.ajax('GET', '/ui/alerts/banner', { target: '#alert-banner-slot', swap: 'innerHTML' }); })";

            queued.Add(await QueueAsync());
            await EvaluateAsync();
            await page.EvaluateAsync(Poll);
            await Assertions.Expect(page.Locator("#alert-announcer")).ToHaveTextAsync($"Alert firing: {Rule}: 1 run queued (threshold 1).");
            queued.Add(await QueueAsync());
            await EvaluateAsync();
            await page.EvaluateAsync(Poll);
            await Assertions.Expect(page.Locator($".alert-banner [data-rule='{Rule}']")).ToContainTextAsync("2 runs queued");
            await page.EvaluateAsync(Poll);
            foreach (var id in queued) Assert.True((await fixture.Api.DeleteAsync($"/api/runs/{id}")).IsSuccessStatusCode);
            await EvaluateAsync();
            await page.EvaluateAsync(Poll);
            await Assertions.Expect(page.Locator(".alert-banner")).ToHaveCountAsync(0);

            Assert.Equal([$"Alert firing: {Rule}: 1 run queued (threshold 1).", $"Alert resolved: {Rule}."], await page.EvaluateAsync<string[]>("() => window.__said"));
            await page.Context.CloseAsync();
        }
        finally
        {
            foreach (var id in queued) await fixture.Api.DeleteAsync($"/api/runs/{id}");
            await EvaluateAsync();
            Serial.Release();
        }
    }

    [Fact]
    public async Task WorkersPage_ANewWorkerAppearsWithoutAReload()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
        await Assertions.Expect(page.Locator("nav a[href='/ui/workers']")).ToHaveAttributeAsync("aria-current", "page");

        var beat = await fixture.Api.PostAsJsonAsync("/api/workers/browser-worker-2/heartbeat", new { host = "browser-host", version = "9.9" });
        Assert.True(beat.IsSuccessStatusCode);

        var row = page.Locator("table.workers-table tr[data-worker='browser-worker-2']");
        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await Assertions.Expect(row.Locator(".worker-status")).ToHaveTextAsync("idle");
        await Assertions.Expect(row.Locator(".worker-host")).ToHaveTextAsync("browser-host");
        await page.Context.CloseAsync();
    }

    [Theory]
    [MemberData(nameof(AccessibilityTests.Views), MemberType = typeof(AccessibilityTests))]
    public async Task WorkersPageAndAdminAlerts_WithTheBannerFiring_Axe_NoViolations(string theme, int width)
    {
        await Serial.WaitAsync();
        try
        {
            var id = await QueueAsync();
            await fixture.Api.PostAsJsonAsync("/api/queue/claim", new { worker = "axe-worker", workflows = new[] { Workflow } });
            var second = await QueueAsync();
            await fixture.Api.PostAsJsonAsync("/api/workers/axe-idle/heartbeat", new { host = "idle-host", version = "1.0", workflows = new[] { "a", "b" } });
            await EvaluateAsync();
            await using var context = await AccessibilityTests.NewContextAsync(fixture, theme, width);
            await context.AddCookiesAsync([new Cookie { Name = "runmonitor-theme", Value = theme, Url = fixture.BaseUrl }]);
            var page = await context.NewPageAsync();
            page.SetDefaultTimeout(10_000);

            await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
            await Assertions.Expect(page.Locator(".alert-banner")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("tr[data-worker='axe-worker'] .worker-status")).ToHaveTextAsync("active");
            await Shoot(page, $"workers-{theme}-{width}");
            var findings = await AccessibilityTests.AxeAsync(page, "/ui/workers");
            await page.GotoAsync($"{fixture.BaseUrl}/admin#alerts");
            await Assertions.Expect(page.Locator($"#alert-rules tr[data-rule='{Rule}']")).ToHaveAttributeAsync("data-state", "firing");
            findings += await AccessibilityTests.AxeAsync(page, "/admin");
            await page.Locator("#alerts").ScrollIntoViewIfNeededAsync();
            await Shoot(page, $"admin-alerts-{theme}-{width}");

            foreach (var run in new[] { id, second })
                await fixture.Api.PatchJsonAsync($"/api/runs/{run}", new { status = "cancelled" });
            await EvaluateAsync();
            Assert.True(findings.Length == 0, $"axe, {theme} at {width} px:\n{findings}");
        }
        finally
        {
            Serial.Release();
        }
    }

    [Fact]
    public async Task WorkersTable_CountHeaders_ReadRightUppercased()
    {
        await fixture.Api.PostAsJsonAsync("/api/workers/header-worker/heartbeat", new { host = "h" });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
        await Assertions.Expect(page.Locator("tr[data-worker='header-worker']")).ToBeVisibleAsync();

        // As shown (innerText takes text-transform in): the headings are uppercased, the unit is not ("24 H" read as hours?).
        var headers = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('table.workers-table thead th.num')].map(th => th.innerText.trim())");

        Assert.Equal(["CLAIMED (24h)", "FAILED (24h)"], headers);
    }

    /// With RUNMONITOR_SCREENSHOTS set to a folder, the screens are saved there for a person to look at.
    private static async Task Shoot(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("RUNMONITOR_SCREENSHOTS") is { Length: > 0 } folder)
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = false });
    }
}
