using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Runs;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Browser;

/// Relative times ("3 minutes ago") on a page left open: the script says them again every 30 s, and when the tab is
/// shown again, in Humanizer's words as the server does; times shown as local or UTC clock times stay as they are.
/// Chromium's clock is Playwright's fake one, installed before the page opens and moved forward by the test.
[Collection(BrowserCollection.Name)]
public sealed partial class TimesBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    [GeneratedRegex(@"^(now|one second ago|\d+ seconds ago)$")]
    private static partial Regex JustNow();

    /// A finished run created `age` before now, completed now: its run page shows one old time and one new.
    private async Task<string> FinishedRunAsync(string workflow, TimeSpan age)
    {
        var now = DateTimeOffset.UtcNow;
        return (await fixture.Api.CreateRunAsync(new
        {
            workflowName = workflow, name = "Ticking", status = "completed",
            createdAt = (now - age).ToString("O"), startedAt = (now - age).ToString("O"), completedAt = now.ToString("O"),
        })).GetProperty("id").GetString()!;
    }

    /// A page on Playwright's clock, set to `start` (the real time by default), where the time runs on by itself until
    /// a test moves it forward.
    private async Task<IPage> PageOnFakeClockAsync(DateTimeOffset? start = null)
    {
        var page = await fixture.NewPageAsync();
        await page.Clock.InstallAsync(new ClockInstallOptions { TimeDate = (start ?? DateTimeOffset.UtcNow).UtcDateTime });
        return page;
    }

    private static ILocator Completed(IPage page) => page.Locator(".fact-completed time");

    /// The run page of a run finished now and created `age` before, on a fake clock set to `clock` (the real time by
    /// default), its completion said in words of now.
    private async Task<IPage> RunPageAsync(string workflow, TimeSpan age, DateTimeOffset? clock = null)
    {
        var id = await FinishedRunAsync(workflow, age);
        var page = await PageOnFakeClockAsync(clock);
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await Assertions.Expect(Completed(page)).ToHaveTextAsync(JustNow());
        return page;
    }

    // Which of the run page's facts had their text written since `WatchFacts`.
    private const string WatchFacts = """
        () => {
          window.__written = [];
          new MutationObserver(records => records.forEach(r => {
            const node = r.target.nodeType === 3 ? r.target.parentElement : r.target;
            const fact = node.closest('dd');
            if (fact) window.__written.push(fact.className);
          })).observe(document.querySelector('dl.facts'), { subtree: true, childList: true, characterData: true });
        }
        """;

    [Fact]
    public async Task RunPage_LeftOpen_RelativeTimesTickAndOnlyChangedOnesAreWritten()
    {
        var page = await RunPageAsync("times-tick", TimeSpan.FromDays(2));
        var created = page.Locator(".fact-created time");
        var completed = Completed(page);
        await Assertions.Expect(created).ToHaveTextAsync("2 days ago");
        var title = await completed.GetAttributeAsync("title");
        await page.EvaluateAsync(WatchFacts);

        await page.Clock.FastForwardAsync("00:30");

        await Assertions.Expect(completed).ToHaveTextAsync(new Regex(@"^\d+ seconds ago$"));
        await Assertions.Expect(created).ToHaveTextAsync("2 days ago");
        // The times whose words stayed were not written again (no layout for nothing).
        Assert.Equal(["fact-completed"], (await page.EvaluateAsync<string[]>("() => window.__written")).Distinct());
        Assert.Equal(title, await completed.GetAttributeAsync("title"));

        await page.Clock.FastForwardAsync("03:00");
        await Assertions.Expect(completed).ToHaveTextAsync("3 minutes ago");
    }

    [Fact]
    public async Task Modal_SwappedInByHtmx_ItsTimesTickToo()
    {
        var id = await FinishedRunAsync("times-modal", TimeSpan.Zero);
        var page = await PageOnFakeClockAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name=times-modal");
        await page.Locator($"tr[data-run-id='{id}'] td.time").ClickAsync();
        var modalTime = page.Locator("#run-detail-modal .run-status time");
        await Assertions.Expect(modalTime).ToHaveTextAsync(JustNow());
        // The quiet list polls every 30 s: within the three minutes skipped on the browser's clock alone it would swap in
        // the server's words, written by its real clock ("now"). Ticking is what is tested here, not polling.
        await page.EvaluateAsync("() => document.getElementById('runs-poll').remove()");

        await page.Clock.FastForwardAsync("03:00");

        await Assertions.Expect(modalTime).ToHaveTextAsync("3 minutes ago");
        await Assertions.Expect(page.Locator($"tr[data-run-id='{id}'] td.time time")).ToHaveTextAsync("3 minutes ago");
    }

    [Fact]
    public async Task TabShownAgain_TicksAtOnce()
    {
        var page = await RunPageAsync("times-visible", TimeSpan.Zero);

        // Ten minutes pass with no timer run (a tab in the background), then the tab is shown.
        await page.Clock.SetSystemTimeAsync(DateTime.UtcNow.AddMinutes(10));
        await page.EvaluateAsync("() => document.dispatchEvent(new Event('visibilitychange'))");

        await Assertions.Expect(Completed(page)).ToHaveTextAsync("10 minutes ago");
    }

    /// The words are the server's, reckoned from its clock: a browser whose clock is an hour slow still reads
    /// "10 minutes ago" where the server wrote it, not "49 minutes from now".
    [Fact]
    public async Task BrowserClockAnHourSlow_TicksStillReckonFromTheServersClock()
    {
        var page = await RunPageAsync("times-skew", TimeSpan.FromMinutes(10), DateTimeOffset.UtcNow.AddHours(-1));
        var started = page.Locator(".fact-started time");
        await Assertions.Expect(started).ToHaveTextAsync("10 minutes ago");

        await page.Clock.FastForwardAsync("00:30");

        await Assertions.Expect(Completed(page)).ToHaveTextAsync(new Regex(@"^\d+ seconds ago$"));
        await Assertions.Expect(started).ToHaveTextAsync("10 minutes ago");
    }

    [Fact]
    public async Task UtcOrLocalTimes_DoNotTick_WordsComeBackAsOfNow()
    {
        var page = await RunPageAsync("times-absolute", TimeSpan.Zero);
        var completed = Completed(page);
        await page.Locator("#pref-time").SelectOptionAsync("utc");
        var utc = await completed.TextContentAsync();
        Assert.EndsWith(" UTC", utc);
        await page.EvaluateAsync(WatchFacts);

        await page.Clock.FastForwardAsync("03:00");
        await page.Locator("#pref-time").SelectOptionAsync("local");
        await page.Clock.FastForwardAsync("00:30");

        // Written once, by the switch to local; no tick wrote the clock times again.
        Assert.Equal(["fact-completed"], await page.EvaluateAsync<string[]>("() => window.__written.filter(c => c === 'fact-completed')"));
        await page.Locator("#pref-time").SelectOptionAsync("relative");
        // The words as of now, not the server's "now" of three minutes ago.
        await Assertions.Expect(completed).ToHaveTextAsync("3 minutes ago");
    }

    /// The script's words against the server's (`Format.Relative`, itself held to Humanizer by `FormatTests`) over
    /// every unit boundary, past and future, around the dates where months and years turn.
    [Fact]
    public async Task Relative_EveryUnitBoundary_ScriptSaysWhatTheServerSays()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name=times-words");
        foreach (var basis in FormatTests.RelativeBases().Cast<object[]>().Select(row => (string)row[0]))
        {
            var now = DateTimeOffset.Parse(basis, CultureInfo.InvariantCulture);
            var values = FormatTests.RelativeValuesAround(now).ToArray();

            var said = await page.EvaluateAsync<string[]>(
                "([values, now]) => values.map(value => window.RunMonitorTimes.relative(value, now))",
                new object[] { values.Select(v => v.ToUnixTimeMilliseconds()).ToArray(), now.ToUnixTimeMilliseconds() });

            var wrong = values.Select((value, i) => (value, server: Format.Relative(value, now), script: said[i]))
                .Where(w => w.server != w.script).Take(5)
                .Select(w => $"{w.value:O} against {basis}: the server says \"{w.server}\", the script \"{w.script}\"");
            Assert.Empty(wrong);
        }
    }
}
