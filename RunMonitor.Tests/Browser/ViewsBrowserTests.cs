using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// Issue 19 in the browser: every shortcut of the runs page, previous/next with [ and ], the time switch, the theme
/// switch without a flash, a saved view's round trip, and a retry with edited input and "Run again".
[Collection(BrowserCollection.Name)]
public sealed partial class ViewsBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    /// Three failed runs of `workflow`, newest first in the list: ids[0], ids[1], ids[2].
    private async Task<string[]> SeedAsync(string workflow)
    {
        var ids = new List<string>();
        foreach (var (name, minutes) in new[] { ("third", 30), ("second", 20), ("first", 10) })
        {
            var created = DateTimeOffset.UtcNow.AddMinutes(-minutes).ToString("O");
            ids.Add((await fixture.Api.CreateRunAsync(new { workflowName = workflow, name, status = "failed", createdAt = created, triggerPayload = new { n = minutes } }))
                .GetProperty("id").GetString()!);
        }
        ids.Reverse();
        return [.. ids];
    }

    /// A saved view through the API, as another operator would have saved it: its id.
    private async Task<long> SavedViewAsync(string name, string query)
    {
        var saved = await fixture.Api.PostAsJsonAsync("/api/views", new { name, query });
        Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
        return (await saved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    /// On `workflow`'s list: the failed runs through the filter (htmx; the address follows), then "Save this view" as
    /// `name`, which does not lead away while the name is taken.
    private async Task<IPage> SaveFailedViewAsAsync(string workflow, string name)
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=" + workflow);
        await page.Locator("#run-filters select[name=status]").SelectOptionAsync("failed");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("status=failed"));
        await page.Locator(".saved-views details.save-view summary").ClickAsync();
        await page.Locator(".save-view-form input[name=name]").FillAsync(name);
        await page.Locator(".save-view-form button[type=submit]").ClickAsync();
        return page;
    }

    private static Task<string?> FocusedRunAsync(IPage page) =>
        page.EvaluateAsync<string?>("() => document.activeElement && document.activeElement.getAttribute('data-run-id')");

    [Fact]
    public async Task Keyboard_JkEnterBracketsEscXSlashQuestionAndO_EachDoWhatTheDialogSays()
    {
        var ids = await SeedAsync("kb-walk");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=kb-walk");
        await page.Locator("body").ClickAsync(new LocatorClickOptions { Position = new Position { X = 5, Y = 300 } });

        // j / k move the row focus.
        await page.Keyboard.PressAsync("j");
        Assert.Equal(ids[0], await FocusedRunAsync(page));
        await page.Keyboard.PressAsync("j");
        await page.Keyboard.PressAsync("j");
        Assert.Equal(ids[2], await FocusedRunAsync(page));
        await page.Keyboard.PressAsync("k");
        Assert.Equal(ids[1], await FocusedRunAsync(page));

        // x toggles the row's selection.
        var second = page.Locator($"tr[data-run-id='{ids[1]}']");
        await page.Keyboard.PressAsync("x");
        await Assertions.Expect(second).ToHaveClassAsync(new Regex("is-selected"));
        await Assertions.Expect(second).ToHaveAttributeAsync("data-selected", "true");
        await page.Keyboard.PressAsync("x");
        await Assertions.Expect(second).Not.ToHaveClassAsync(new Regex("is-selected"));

        // Enter opens the modal; ] and [ walk the list inside it; Esc closes it, back on the row last shown.
        await page.Keyboard.PressAsync("Enter");
        var modal = page.Locator("#run-detail-modal .modal-content");
        await Assertions.Expect(modal).ToHaveAttributeAsync("data-run-id", ids[1]);
        await page.Keyboard.PressAsync("]");
        await Assertions.Expect(modal).ToHaveAttributeAsync("data-run-id", ids[2]);
        await Assertions.Expect(page.Locator("#run-detail-modal .walk-position")).ToHaveTextAsync("3 of 3");
        await page.Keyboard.PressAsync("[");
        await Assertions.Expect(modal).ToHaveAttributeAsync("data-run-id", ids[1]);
        await page.Keyboard.PressAsync("[");
        await Assertions.Expect(modal).ToHaveAttributeAsync("data-run-id", ids[0]);
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("#run-detail-modal")).ToBeHiddenAsync();
        // The dialog gives focus back to the row it opened from at once; the close event then moves it to the row shown last.
        await Assertions.Expect(page.Locator($"tr[data-run-id='{ids[0]}']")).ToBeFocusedAsync();

        // / goes to the search; typed keys stay in the field; Esc leaves it, and the keys work again.
        await page.Keyboard.PressAsync("/");
        await Assertions.Expect(page.Locator("#filter-q")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("jk");
        await Assertions.Expect(page.Locator("#filter-q")).ToHaveValueAsync("jk");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("#filter-q")).Not.ToBeFocusedAsync();
        await page.Locator("#filter-q").FillAsync("");
        await page.Locator("body").ClickAsync(new LocatorClickOptions { Position = new Position { X = 5, Y = 300 } });

        // ? lists the shortcuts; Esc closes the list.
        await page.Keyboard.PressAsync("?");
        var help = page.Locator("#shortcuts-dialog");
        await Assertions.Expect(help).ToBeVisibleAsync();
        await Assertions.Expect(help.Locator("kbd", new() { HasTextString = "j" })).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(help).ToBeHiddenAsync();

        // o opens the focused run's page, which walks the same list with ] and [. Each page's keys are bound by its
        // deferred scripts, which have run once its DOM is loaded: the wait is for that, not for every subresource.
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=kb-walk");
        await page.Locator("body").ClickAsync(new LocatorClickOptions { Position = new Position { X = 5, Y = 300 } });
        await page.Keyboard.PressAsync("j");
        Assert.Equal(ids[0], await FocusedRunAsync(page));
        await page.NavigatesToAsync(new Regex($"/runs/{ids[0]}\\?list="), () => page.Keyboard.PressAsync("o"));
        await page.NavigatesToAsync(new Regex($"/runs/{ids[1]}\\?list=.*&at=1$"), () => page.Keyboard.PressAsync("]"));
        await Assertions.Expect(page.Locator(".run-walk .walk-position")).ToHaveTextAsync("2 of 3");
        await page.NavigatesToAsync(new Regex($"/runs/{ids[0]}\\?list=.*&at=0$"), () => page.Keyboard.PressAsync("["));
    }

    /// A name taken, replaced: the button beside the answer saves that view again with the filter shown, and the page
    /// goes to it, the view (its id kept) now marked as the one shown.
    [Fact]
    public async Task SavedView_NameTaken_ReplaceSavesThatViewAgainWithTheFilterShown()
    {
        await SeedAsync("saved-replace");
        var id = await SavedViewAsync("Replace view", "layer_name=saved-replace");
        try
        {
            var page = await SaveFailedViewAsAsync("saved-replace", "Replace view");
            var replace = page.Locator(".saved-views .save-view-answer form.save-view-replace");
            await Assertions.Expect(replace.Locator("p")).ToHaveTextAsync("It shows layer_name=saved-replace.");

            await page.NavigatesToAsync(new Regex(@"/ui/runs\?layer_name=saved-replace&status=failed$"),
                () => replace.Locator("button", new() { HasTextString = "Replace “Replace view” with this filter" }).ClickAsync());

            var link = page.Locator($".saved-views li[data-view-id='{id}'] a.saved-view-link");
            await Assertions.Expect(link).ToHaveAttributeAsync("aria-current", "page");
            await Assertions.Expect(link).ToHaveAttributeAsync("href", "/ui/runs?layer_name=saved-replace&status=failed");
            await Assertions.Expect(page.Locator(".saved-views a.saved-view-link", new() { HasTextString = "Replace view" })).ToHaveCountAsync(1);
        }
        finally
        {
            await fixture.Api.DeleteAsync($"/api/views/{id}");
        }
    }

    [Fact]
    public async Task Keyboard_JFocusedRow_StaysFocusedWhenThePollSwapsTheList()
    {
        var ids = await SeedAsync("kb-poll");
        // A running run keeps the list polling every 5 s.
        await fixture.Api.CreateRunAsync(new { workflowName = "kb-poll", name = "live", status = "running", createdAt = DateTimeOffset.UtcNow.AddHours(-1).ToString("O") });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=kb-poll");
        await Assertions.Expect(page.Locator("#runs-poll")).ToBeAttachedAsync();
        await page.EvaluateAsync("() => { window.__swaps = 0; document.addEventListener('htmx:afterSettle', e => { if (e.detail.target && e.detail.target.id === 'runs-list') window.__swaps++; }); }");
        await page.Locator("body").ClickAsync(new LocatorClickOptions { Position = new Position { X = 5, Y = 300 } });
        await page.Keyboard.PressAsync("j");
        Assert.Equal(ids[0], await FocusedRunAsync(page));

        await page.WaitForFunctionAsync("() => window.__swaps >= 1", null, new PageWaitForFunctionOptions { Timeout = 15_000 });

        Assert.Equal(ids[0], await FocusedRunAsync(page));
        await page.Keyboard.PressAsync("j");
        Assert.Equal(ids[1], await FocusedRunAsync(page));
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")]
    private static partial Regex UtcMinutes();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d$")]
    private static partial Regex LocalMinutes();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")]
    private static partial Regex UtcSeconds();

    [Fact]
    public async Task TimeSwitch_AppliesWithoutReload_IsRemembered_RunPageHasSeconds()
    {
        var ids = await SeedAsync("time-switch");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=time-switch");
        var created = page.Locator($"tr[data-run-id='{ids[0]}'] td.time time");
        await Assertions.Expect(created).ToHaveTextAsync(new Regex("ago$"));
        var title = await created.GetAttributeAsync("title");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        await page.Locator("#pref-time").SelectOptionAsync("utc");
        await Assertions.Expect(created).ToHaveTextAsync(UtcMinutes());
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the switch reloaded the page");
        Assert.Equal(title, await created.GetAttributeAsync("title"));
        await page.Locator("#pref-time").SelectOptionAsync("local");
        await Assertions.Expect(created).ToHaveTextAsync(LocalMinutes());
        await page.Locator("#pref-time").SelectOptionAsync("utc");

        // Remembered: the next page (and its htmx-swapped parts) read UTC, the run page with seconds.
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{ids[0]}");
        await Assertions.Expect(page.Locator("#pref-time")).ToHaveValueAsync("utc");
        await Assertions.Expect(page.Locator(".fact-created time")).ToHaveTextAsync(UtcSeconds());
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=time-switch");
        await Assertions.Expect(created).ToHaveTextAsync(UtcMinutes());
        // The modal's header time too (it was plain text the switch passed by).
        await created.ClickAsync();
        await Assertions.Expect(page.Locator("#run-detail-modal .run-status time")).ToHaveTextAsync(UtcMinutes());
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("#run-detail-modal")).ToBeHiddenAsync();
        await page.Locator("#filter-q").FillAsync("first");
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.runs-table tbody tr td.time time")).ToHaveTextAsync(UtcMinutes());
        await page.Locator("#pref-time").SelectOptionAsync("relative");
        await Assertions.Expect(page.Locator("table.runs-table tbody tr td.time time")).ToHaveTextAsync(new Regex("ago$"));
    }

    private async Task<string> BackgroundAsync(IBrowserContext context, string path)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + path);
        return await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
    }

    private const string LightBackground = "rgb(246, 247, 249)";
    private const string DarkBackground = "rgb(15, 18, 25)";

    [Fact]
    public async Task ThemeSwitch_ForcesEitherTheme_RememberedAndRenderedByTheServer_NoFlash()
    {
        // The switch: light system, forced dark at once, then back to following the system.
        await using var context = await fixture.Browser.NewContextAsync(new() { ColorScheme = ColorScheme.Light });
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs");
        Assert.Equal(LightBackground, await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));
        await page.Locator("#pref-theme").SelectOptionAsync("dark");
        await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "dark");
        Assert.Equal(DarkBackground, await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));
        var cookies = await context.CookiesAsync();
        Assert.Equal("dark", cookies.Single(c => c.Name == "runmonitor-theme").Value);

        // No flash: with script off the page still comes dark from the server's first byte (the cookie chose it).
        await using var noScript = await fixture.Browser.NewContextAsync(new() { ColorScheme = ColorScheme.Light, JavaScriptEnabled = false });
        await noScript.AddCookiesAsync([new Cookie { Name = "runmonitor-theme", Value = "dark", Url = fixture.BaseUrl }]);
        Assert.Equal(DarkBackground, await BackgroundAsync(noScript, "/ui/runs"));
        await using var noScriptLight = await fixture.Browser.NewContextAsync(new() { ColorScheme = ColorScheme.Dark, JavaScriptEnabled = false });
        await noScriptLight.AddCookiesAsync([new Cookie { Name = "runmonitor-theme", Value = "light", Url = fixture.BaseUrl }]);
        Assert.Equal(LightBackground, await BackgroundAsync(noScriptLight, "/ui/runs"));

        // Every paint of a reload is dark: sampled from the first frame on, before and after the scripts run.
        await page.AddInitScriptAsync("""
            window.__paints = [];
            const sample = () => { if (document.body) window.__paints.push(getComputedStyle(document.body).backgroundColor); if (window.__paints.length < 20) requestAnimationFrame(sample); };
            requestAnimationFrame(sample);
            """);
        await page.ReloadAsync();
        await page.WaitForFunctionAsync("() => window.__paints.length >= 20");
        Assert.All(await page.EvaluateAsync<string[]>("() => window.__paints"), c => Assert.Equal(DarkBackground, c));

        await page.Locator("#pref-theme").SelectOptionAsync("auto");
        Assert.Equal(LightBackground, await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor"));
    }

    [Fact]
    public async Task SavedView_SaveFilterThenFollowItBackAndDelete()
    {
        await SeedAsync("saved-round");
        await fixture.Api.CreateRunAsync(new { workflowName = "saved-round", name = "not failed", status = "completed" });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=saved-round");
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(4);

        // Filter through htmx (the URL follows), then save what the address bar shows.
        await page.Locator("#run-filters select[name=status]").SelectOptionAsync("failed");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("status=failed"));
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(3);
        await page.Locator(".saved-views details.save-view summary").ClickAsync();
        await page.Locator(".save-view-form input[name=name]").FillAsync("Failed round trips");
        await page.NavigatesToAsync(new Regex(@"/ui/runs\?layer_name=saved-round&status=failed$"),
            () => page.Locator(".save-view-form button[type=submit]").ClickAsync());
        var link = page.Locator(".saved-views a.saved-view-link", new() { HasTextString = "Failed round trips" });
        await Assertions.Expect(link).ToHaveAttributeAsync("aria-current", "page");

        // Elsewhere, the link brings the same view back.
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs");
        await page.NavigatesToAsync(new Regex(@"status=failed"), () => link.ClickAsync());
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#run-filters select[name=status]")).ToHaveValueAsync("failed");

        // And the view goes with its delete button.
        await page.NavigatesToAsync(new Regex(@"/ui/runs$"),
            () => page.Locator(".saved-view", new() { HasTextString = "Failed round trips" }).Locator("button[aria-label^='Delete saved view']").ClickAsync());
        await Assertions.Expect(link).ToHaveCountAsync(0);
    }

    /// A name already taken: the answer comes beside the form, in place; the typed name, the filter the list shows and
    /// the address stay, so another name saves the same view at once.
    [Fact]
    public async Task SavedView_NameTaken_SaidBesideTheForm_TheNameAndTheFilterStay()
    {
        await SeedAsync("saved-clash");
        await fixture.Api.CreateRunAsync(new { workflowName = "saved-clash", name = "not failed", status = "completed" });
        await SavedViewAsync("Clash view", "layer_name=saved-clash");
        try
        {
            var page = await SaveFailedViewAsAsync("saved-clash", "Clash view");
            var name = page.Locator(".save-view-form input[name=name]");

            var error = page.Locator(".saved-views .save-view p.error");
            await Assertions.Expect(error).ToHaveTextAsync("A view named “Clash view” already exists — choose another name, or replace it.");
            Assert.EndsWith("/ui/runs?layer_name=saved-clash&status=failed", page.Url);
            await Assertions.Expect(name).ToHaveValueAsync("Clash view");
            await Assertions.Expect(page.Locator("#run-filters select[name=status]")).ToHaveValueAsync("failed");
            await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(3);
            // Said once, where the person is looking: not again as a toast.
            await Assertions.Expect(page.Locator("#toasts .toast")).ToHaveCountAsync(0);

            await name.FillAsync("Clash view failed");
            await Assertions.Expect(error).ToHaveCountAsync(0);
            await page.NavigatesToAsync(new Regex(@"/ui/runs\?layer_name=saved-clash&status=failed$"),
                () => page.Locator(".save-view-form button[type=submit]").ClickAsync());
            await Assertions.Expect(page.Locator(".saved-views a.saved-view-link", new() { HasTextString = "Clash view failed" })).ToHaveAttributeAsync("aria-current", "page");
        }
        finally
        {
            foreach (var view in (await fixture.Api.GetJsonAsync("/api/views")).AsArray().Where(v => ((string)v!["name"]!).StartsWith("Clash view", StringComparison.Ordinal)))
                await fixture.Api.DeleteAsync($"/api/views/{(long)view!["id"]!}");
        }
    }

    /// A long name keeps its pill on one line, cut with an ellipsis, the whole name in its title and its link's text
    /// (what a screen reader says); it was a pill several lines tall.
    [Theory]
    [InlineData(1440)]
    [InlineData(390)]
    public async Task SavedView_LongName_OnePillLineCutWithAnEllipsis(int width)
    {
        const string Name = "Failed campaign runs of the spring and summer launches across every tenant, newest first";
        var saved = await fixture.Api.PostAsJsonAsync("/api/views", new { name = Name, query = "layer_name=saved-long&status=failed" });
        Assert.True(saved.IsSuccessStatusCode, await saved.Content.ReadAsStringAsync());
        var id = (await saved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var other = await fixture.Api.PostAsJsonAsync("/api/views", new { name = "Short", query = "layer_name=saved-short" });
        var otherId = (await other.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        try
        {
            await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
            var page = await context.NewPageAsync();
            await page.GotoAsync(fixture.BaseUrl + "/ui/runs");

            var pill = page.Locator(".saved-view", new() { HasTextString = Name });
            var link = pill.Locator("a.saved-view-link");
            var shortPill = page.Locator(".saved-view", new() { Has = page.Locator("a.saved-view-link", new() { HasTextString = "Short" }) }).First;
            Assert.Equal((await shortPill.BoundingBoxAsync())!.Height, (await pill.BoundingBoxAsync())!.Height, 0.5);
            Assert.True(await link.EvaluateAsync<bool>("a => a.scrollWidth > a.clientWidth && getComputedStyle(a).textOverflow === 'ellipsis'"), "the name is not cut with an ellipsis");
            Assert.True((await pill.BoundingBoxAsync())!.Width <= width - 20, "the pill is wider than the screen");
            await Assertions.Expect(link).ToHaveAttributeAsync("title", Name);
            await Assertions.Expect(link).ToHaveAccessibleNameAsync(Name);
        }
        finally
        {
            await fixture.Api.DeleteAsync($"/api/views/{id}");
            await fixture.Api.DeleteAsync($"/api/views/{otherId}");
        }
    }

    [Fact]
    public async Task EditInput_RefusedUntilJson_ThenTheRetryGetsTheEditedPayload_RunAgainFromTheModal()
    {
        var ids = await SeedAsync("edit-rerun");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{ids[0]}");
        await page.Locator(".run-actions button[data-action=retry]").ClickAsync();
        var dialog = page.Locator($"dialog[id='page-retry-dialog-{ids[0]}']");
        await dialog.Locator("details.edit-input summary").ClickAsync();
        var field = dialog.Locator("textarea[name=triggerPayload]");
        Assert.Equal(10, System.Text.Json.JsonDocument.Parse(await field.InputValueAsync()).RootElement.GetProperty("n").GetInt32());

        // Not JSON: the form is not sent, the field says why.
        await field.FillAsync("{ n: 11 ");
        await dialog.Locator("button[data-confirm]").ClickAsync();
        Assert.False(await field.EvaluateAsync<bool>("f => f.validity.valid"));
        Assert.StartsWith("Not JSON", await field.EvaluateAsync<string>("f => f.validationMessage"));
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        Assert.Equal(3L, (long?)(await fixture.Api.GetJsonAsync("/api/runs?workflow=edit-rerun"))["total"]);

        await field.FillAsync("""{ "n": 11, "edited": true }""");
        await dialog.Locator("button[data-confirm]").ClickAsync();
        var notice = page.Locator(".run-actions .run-action-notice a");
        await Assertions.Expect(notice).ToBeVisibleAsync();
        var newId = (await notice.GetAttributeAsync("href"))!["/runs/".Length..];
        var retried = await fixture.Api.GetJsonAsync($"/api/runs/{newId}");
        Assert.Equal(11, (int)retried["triggerPayload"]!["n"]!);
        Assert.Equal(ids[0], (string?)retried["retryOf"]);

        // "Run again" on a completed run, from the modal, whose field loads the payload when opened.
        var done = (await fixture.Api.CreateRunAsync(new { workflowName = "edit-rerun-done", name = "done", status = "completed", triggerPayload = new { n = 1 } }))
            .GetProperty("id").GetString()!;
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=edit-rerun-done");
        await page.Locator($"tr[data-run-id='{done}'] td.time").ClickAsync();
        await page.Locator("#run-detail-modal .run-actions button[data-action=run-again]").ClickAsync();
        var again = page.Locator($"dialog[id='modal-run-again-dialog-{done}']");
        await again.Locator("details.edit-input summary").ClickAsync();
        var lazy = again.Locator("textarea[name=triggerPayload]");
        await Assertions.Expect(lazy).ToBeEnabledAsync();
        await Assertions.Expect(lazy).ToHaveValueAsync(new Regex("\"n\": 1"));
        await lazy.FillAsync("""{"n": 2}""");
        await again.Locator("button[data-confirm]").ClickAsync();
        await Assertions.Expect(page.Locator("#toasts .toast-success")).ToContainTextAsync("Run again with edited input queued as run");
        var runs = await fixture.Api.GetJsonAsync("/api/runs?workflow=edit-rerun-done&sort=-created");
        Assert.Equal(2L, (long?)runs["total"]);
        var newest = await fixture.Api.GetJsonAsync($"/api/runs/{(string)runs["items"]![0]!["id"]!}");
        Assert.Equal(2, (int)newest["triggerPayload"]!["n"]!);
        Assert.Equal(done, (string?)newest["retryOf"]);
    }
}
