using System.Net.Http.Json;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// The run page's log view in Chromium: a running run's new lines appear without a reload, the level chips and the
/// search filter, "load earlier" reads back, "jump to first error" finds it.
[Collection(BrowserCollection.Name)]
public sealed class LogViewBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    private async Task<string> RunAsync(string status = "running")
    {
        var id = "browser-logs-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Api.CreateRunAsync(new { id, workflowName = "browser-logs", status });
        return id;
    }

    private async Task PostLinesAsync(string id, params object[] lines)
    {
        var response = await fixture.Api.PostAsJsonAsync($"/api/runs/{id}/logs", lines);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LiveTail_PostedLine_AppearsWithoutReload()
    {
        var id = await RunAsync();
        await PostLinesAsync(id, new { message = "before the page opened" });
        var page = await fixture.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") consoleErrors.Add(message.Text); };
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await Assertions.Expect(page.Locator(".run-live[data-sse-open]")).ToHaveCountAsync(1);
        await page.EvaluateAsync("() => { window.__marker = 'same page'; document.querySelector('#run-logs .log-line').__kept = true; }");

        await PostLinesAsync(id, new { message = "printed while watching", level = "warn", step = "fetch" });

        var line = page.Locator("#run-logs .log-line.log-warn");
        await Assertions.Expect(line.Locator(".log-message")).ToHaveTextAsync("printed while watching");
        await Assertions.Expect(line.Locator(".log-step")).ToHaveTextAsync("fetch");
        await Assertions.Expect(page.Locator("#run-logs .log-line")).ToHaveCountAsync(2);
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__marker"));
        // The line shown before was not rendered again.
        Assert.True(await page.EvaluateAsync<bool>("() => document.querySelector('#run-logs .log-line').__kept === true"));
        Assert.Empty(consoleErrors);
    }

    /// A browser in Japan (UTC+9, no summer time), its time switch as `times` says (the cookie the switch writes).
    private async Task<IBrowserContext> TokyoContextAsync(string? times = null)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { TimezoneId = "Asia/Tokyo" });
        if (times is not null)
            await context.AddCookiesAsync([new Cookie { Name = "runmonitor-time", Value = times, Url = fixture.BaseUrl }]);
        return context;
    }

    /// Log times are clock times to the millisecond whatever the header's switch says (words would tell lines of one
    /// minute apart), in UTC unless it says local, and the panel names the zone it shows.
    [Fact]
    public async Task LogTimes_EachTimeSwitch_MillisecondsInTheZoneThePanelNames()
    {
        var id = await RunAsync("completed");
        await PostLinesAsync(id,
            new { message = "slow response", level = "warn", ts = "2026-03-01T12:34:56.789Z" },
            new { message = "retrying", ts = "2026-03-01T12:34:56.790Z" });
        await using var context = await TokyoContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        var times = page.Locator("#run-logs .log-line time");
        var zone = page.Locator("#run-logs .log-zone");

        await Assertions.Expect(times).ToHaveTextAsync(["12:34:56.789", "12:34:56.790"]);
        await Assertions.Expect(zone).ToHaveTextAsync("Times in UTC");
        await Assertions.Expect(times.First).ToHaveAttributeAsync("title", "2026-03-01T12:34:56.789Z");

        await page.Locator("#pref-time").SelectOptionAsync("utc");
        await Assertions.Expect(times).ToHaveTextAsync(["12:34:56.789", "12:34:56.790"]);
        await Assertions.Expect(zone).ToHaveTextAsync("Times in UTC");

        await page.Locator("#pref-time").SelectOptionAsync("local");
        await Assertions.Expect(times).ToHaveTextAsync(["21:34:56.789", "21:34:56.790"]);
        await Assertions.Expect(zone).ToHaveTextAsync("Times in Asia/Tokyo");
        await Assertions.Expect(times.First).ToHaveAttributeAsync("title", "2026-03-01T12:34:56.789Z");

        // The lines a filter brings read the same.
        await page.Locator("#run-logs .log-chip-warn").ClickAsync();
        await Assertions.Expect(times).ToHaveTextAsync(["21:34:56.789"]);

        await page.Locator("#pref-time").SelectOptionAsync("relative");
        await Assertions.Expect(times).ToHaveTextAsync(["12:34:56.789"]);
        await Assertions.Expect(zone).ToHaveTextAsync("Times in UTC");
    }

    [Fact]
    public async Task LiveTail_LocalTimes_NewLineInTheBrowsersZone()
    {
        var id = await RunAsync();
        await PostLinesAsync(id, new { message = "before the page opened", ts = "2026-03-01T14:59:59.998Z" });
        await using var context = await TokyoContextAsync("local");
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await Assertions.Expect(page.Locator(".run-live[data-sse-open]")).ToHaveCountAsync(1);
        var times = page.Locator("#run-logs .log-line time");
        await Assertions.Expect(times).ToHaveTextAsync(["23:59:59.998"]);

        await PostLinesAsync(id, new { message = "printed while watching", ts = "2026-03-01T15:00:00.001Z" });

        await Assertions.Expect(times).ToHaveTextAsync(["23:59:59.998", "00:00:00.001"]);
        await Assertions.Expect(page.Locator("#run-logs .log-zone")).ToHaveTextAsync("Times in Asia/Tokyo");
    }

    /// On a phone a wrapped line keeps its message and its fields in the message's column, under the time, with the
    /// line numbers alone in theirs (the fields went under the numbers).
    [Fact]
    public async Task Phone_WrappedLine_FieldsStayInTheMessageColumn()
    {
        var id = await RunAsync("completed");
        await PostLinesAsync(id, new
        {
            message = "composing the intro track at 120 bpm with the launch template", level = "warn", step = "bgm_track",
            fields = new { bpm = 120, attempt = 2, template = "launch" },
        });
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", 390);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await Assertions.Expect(page.Locator("#run-logs .log-line .log-fields")).ToBeVisibleAsync();

        var lefts = await page.Locator("#run-logs .log-line").First.EvaluateAsync<double[]>(
            """
            line => ['.log-no', 'time', '.log-message', '.log-fields'].map(sel => {
              const r = document.createRange(); r.selectNodeContents(line.querySelector(sel));
              return Math.min(...[...r.getClientRects()].map(b => b.left)); })
            """);
        var (number, time, message, fields) = (lefts[0], lefts[1], lefts[2], lefts[3]);
        Assert.True(Math.Abs(message - time) < 1, $"the message starts at {message:F1}, the time at {time:F1}");
        Assert.True(Math.Abs(fields - message) < 1, $"the fields start at {fields:F1}, under the line number ({number:F1}), not the message ({message:F1})");
    }

    [Fact]
    public async Task Filters_LevelChipAndSearch_NarrowTheLines()
    {
        var id = await RunAsync("completed");
        await PostLinesAsync(id,
            new { message = "connecting", level = "debug" },
            new { message = "fetched 12 rows" },
            new { message = "slow response", level = "warn" },
            new { message = "render failed", level = "error" });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        var lines = page.Locator("#run-logs .log-line");
        await Assertions.Expect(lines).ToHaveCountAsync(4);

        await page.Locator("#run-logs .log-chip-warn").ClickAsync();
        await Assertions.Expect(lines).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#run-logs .log-download")).ToHaveAttributeAsync("href", $"/api/runs/{id}/logs.txt?level=warn");

        await page.Locator("#run-logs .log-chip-trace").ClickAsync();
        await page.Locator("#run-logs input[name=q]").FillAsync("ROWS");
        await Assertions.Expect(lines).ToHaveCountAsync(1);
        await Assertions.Expect(lines.Locator(".log-message")).ToHaveTextAsync("fetched 12 rows");
    }

    [Fact]
    public async Task Filters_WithoutJavaScript_SubmitOpensTheFilteredRunPage()
    {
        var id = await RunAsync("completed");
        await PostLinesAsync(id,
            new { message = "fetched 12 rows" },
            new { message = "slow response", level = "warn" },
            new { message = "slow render", level = "error" });
        await using var context = await fixture.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");

        await page.Locator("#run-logs .log-chip-warn").ClickAsync();
        await page.Locator("#run-logs input[name=q]").FillAsync("response");
        await page.Locator("#run-logs button[type=submit]").ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync($"{fixture.BaseUrl}/runs/{id}?level=warn&q=response#run-logs");
        await Assertions.Expect(page.Locator("header.topbar")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#run-logs .log-line")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#run-logs .log-message")).ToHaveTextAsync("slow response");
        await Assertions.Expect(page.Locator("#run-logs .log-chip-warn input")).ToBeCheckedAsync();
    }

    [Fact]
    public async Task HugeLog_LoadEarlier_PrependsAndJumpFindsFirstError()
    {
        var id = await RunAsync("failed");
        var lines = Enumerable.Range(1, 450).Select(i => (object)(i == 7
            ? new { message = "the first error", level = "error" }
            : new { message = $"chatter {i}", level = "info" })).ToArray();
        await PostLinesAsync(id, lines);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        var shown = page.Locator("#run-logs .log-line");
        await Assertions.Expect(shown).ToHaveCountAsync(200);
        await Assertions.Expect(shown.First).ToHaveAttributeAsync("data-seq", "251");

        await page.Locator("#run-logs .log-earlier").ClickAsync();
        await Assertions.Expect(shown).ToHaveCountAsync(400);
        await Assertions.Expect(shown.First).ToHaveAttributeAsync("data-seq", "51");

        await page.Locator("#run-logs .log-jump-error").ClickAsync();
        var target = page.Locator("#run-logs .log-line.log-target");
        await Assertions.Expect(target).ToHaveAttributeAsync("data-seq", "7");
        await Assertions.Expect(target).ToBeInViewportAsync();

        var wrap = page.Locator("#run-logs [data-log-wrap]");
        // On, the button shows it (its word never changes): the chips' pressed colours; off, its plain ghost look.
        const string Look = "b => getComputedStyle(b).backgroundColor + ' ' + getComputedStyle(b).borderTopColor";
        var on = await wrap.EvaluateAsync<string>(Look);
        await wrap.ClickAsync();
        await Assertions.Expect(page.Locator("#run-logs .log-frame")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("log-wrap"));
        await Assertions.Expect(wrap).ToHaveAttributeAsync("aria-pressed", "false");
        await page.Mouse.MoveAsync(0, 0);
        Assert.NotEqual(on, await wrap.EvaluateAsync<string>(Look));
    }
    /// With a level chip on, the jump reads the filtered lines from the first error (the chip still on), says following
    /// is paused while the newest lines are out of the view, and "Back to latest" returns to the tail and follows again.
    [Fact]
    public async Task JumpToFirstError_FilterActive_KeepsItPausesAndBackToLatestFollowsAgain()
    {
        var id = await RunAsync();
        await PostLinesAsync(id, Enumerable.Range(1, 450).Select(i => (object)(i == 7
            ? new { message = "the first error", level = "error" }
            : i % 3 == 0 ? new { message = $"chatter {i}", level = "info" } : new { message = $"warning {i}", level = "warn" })).ToArray());
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await Assertions.Expect(page.Locator(".run-live[data-sse-open]")).ToHaveCountAsync(1);
        var lines = page.Locator("#run-logs .log-line");
        var latest = page.Locator("#run-logs .log-latest");
        var paused = page.Locator("#run-logs .log-paused");
        await page.Locator("#run-logs .log-chip-warn").ClickAsync();
        await Assertions.Expect(page.Locator("#run-logs .log-count")).ToHaveTextAsync("300 of 450 lines match");
        await Assertions.Expect(lines.Last).ToHaveAttributeAsync("data-seq", "449");
        await Assertions.Expect(latest).ToBeHiddenAsync();
        await Assertions.Expect(paused).ToBeHiddenAsync();

        await page.Locator("#run-logs .log-jump-error").ClickAsync();

        var target = page.Locator("#run-logs .log-line.log-target");
        await Assertions.Expect(target).ToHaveAttributeAsync("data-seq", "7");
        await Assertions.Expect(target).ToBeInViewportAsync();
        await Assertions.Expect(page.Locator("#run-logs .log-chip-warn input")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("#run-logs .log-line.log-info")).ToHaveCountAsync(0);
        await Assertions.Expect(paused).ToHaveTextAsync("Following paused");
        await Assertions.Expect(latest).ToBeVisibleAsync();

        await PostLinesAsync(id, new { message = "arrived while paused", level = "warn" });
        await latest.ClickAsync();

        await Assertions.Expect(lines.Last.Locator(".log-message")).ToHaveTextAsync("arrived while paused");
        await Assertions.Expect(lines.Last).ToBeInViewportAsync();
        await Assertions.Expect(latest).ToBeHiddenAsync();
        await Assertions.Expect(paused).ToBeHiddenAsync();
        await PostLinesAsync(id, new { message = "followed again", level = "error" });
        await Assertions.Expect(lines.Last.Locator(".log-message")).ToHaveTextAsync("followed again");
        await Assertions.Expect(page.Locator("#run-logs .log-count")).ToHaveTextAsync("302 of 452 lines match");
    }

    /// A running run's panel counts the lines as they follow in (and a filter's matches), and offers the jump once the
    /// first error arrives.
    [Fact]
    public async Task LiveTail_LinesArrive_CountFollowsAndJumpAppearsWithTheFirstError()
    {
        var id = await RunAsync();
        await PostLinesAsync(id, new { message = "starting" }, new { message = "fetching" });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await Assertions.Expect(page.Locator(".run-live[data-sse-open]")).ToHaveCountAsync(1);
        var count = page.Locator("#run-logs .log-count");
        var jump = page.Locator("#run-logs .log-jump-error");
        await Assertions.Expect(count).ToHaveTextAsync("2 lines");
        await Assertions.Expect(jump).ToBeHiddenAsync();

        await PostLinesAsync(id, new { message = "render failed", level = "error" });

        await Assertions.Expect(count).ToHaveTextAsync("3 lines");
        await Assertions.Expect(jump).ToBeVisibleAsync();
        await Assertions.Expect(jump).ToHaveAttributeAsync("data-log-jump", "3");

        await page.Locator("#run-logs input[name=q]").FillAsync("fail");
        await Assertions.Expect(count).ToHaveTextAsync("1 of 3 lines matches");
        await PostLinesAsync(id, new { message = "retry failed", level = "warn" }, new { message = "giving up" });
        await Assertions.Expect(page.Locator("#run-logs .log-line")).ToHaveCountAsync(2);
        await Assertions.Expect(count).ToHaveTextAsync("2 of 5 lines match");
    }

    /// A line with a long message and long fields keeps both readable: neither is squeezed into a narrow column beside
    /// the other; the fields go under the message, in its column, each as wide as the line's text.
    [Theory]
    [InlineData(1280)]
    [InlineData(390)]
    public async Task LongMessageAndFields_BothKeepTheLinesWidth(int width)
    {
        var id = await RunAsync("completed");
        await PostLinesAsync(id, new
        {
            message = string.Join(" ", Enumerable.Range(1, 40).Select(i => $"word{i}")), level = "warn", step = "bgm_track",
            fields = Enumerable.Range(1, 12).ToDictionary(i => $"field_{i}", i => $"value number {i}"),
        });
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{id}");
        await Assertions.Expect(page.Locator("#run-logs .log-line .log-fields")).ToBeVisibleAsync();

        var boxes = await page.Locator("#run-logs .log-line").First.EvaluateAsync<double[]>(
            """
            line => { const f = line.closest('.log-frame').getBoundingClientRect();
              const m = line.querySelector('.log-message').getBoundingClientRect(), d = line.querySelector('.log-fields').getBoundingClientRect();
              return [m.left, m.width, d.left, d.width, f.right - m.left]; }
            """);
        var (messageLeft, message, fieldsLeft, fields, room) = (boxes[0], boxes[1], boxes[2], boxes[3], boxes[4]);
        Assert.True(message > room * 0.8, $"the message is {message:F0} px wide of {room:F0}");
        Assert.True(fields > room * 0.8, $"the fields are {fields:F0} px wide of {room:F0}");
        Assert.True(Math.Abs(fieldsLeft - messageLeft) < 1, $"the fields start at {fieldsLeft:F1}, the message at {messageLeft:F1}");
    }
}
