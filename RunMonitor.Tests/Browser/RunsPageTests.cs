using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class RunsPageTests(BrowserFixture fixture) : IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => fixture.ClosePagesAsync();

    private async Task SeedAsync(string workflow)
    {
        await fixture.Api.CreateRunAsync(new { workflowName = workflow, name = "Browser completed", status = "completed" });
        await fixture.Api.CreateRunAsync(new
        {
            workflowName = workflow, name = "Browser failed", status = "failed",
            errors = new[] { new { topic = "user:1", error = "Boom", node = "reflect" } },
        });
    }

    [Fact]
    public async Task StatusFilter_Change_SwapsTableWithoutReloadAndUpdatesUrl()
    {
        await SeedAsync("browser-filter");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-filter");
        await page.EvaluateAsync("() => window.__marker = 'same page'");
        Assert.Equal(2, await page.Locator("table.runs-table tbody tr").CountAsync());

        await page.SelectOptionAsync("select[name=status]", "failed");

        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.runs-table tbody tr span.badge")).ToHaveTextAsync("failed");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__marker"));
        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-filter&status=failed");

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("select[name=status]")).ToHaveValueAsync("failed");
    }

    [Fact]
    public async Task BackAndForward_TheFilterFormShowsTheFilterOfTheAddress()
    {
        await SeedAsync("browser-history");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-history");

        await page.SelectOptionAsync("select[name=status]", "failed");
        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-history&status=failed");
        await page.SelectOptionAsync("select[name=status]", "completed");
        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-history&status=completed");
        await page.GoBackAsync();

        // The form a person changes next is the view they see: a change after Back keeps every filter of it.
        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-history&status=failed");
        await Assertions.Expect(page.Locator("select[name=status]")).ToHaveValueAsync("failed");
        await Assertions.Expect(page.Locator("select[name=layer_name]")).ToHaveValueAsync("browser-history");
        await Assertions.Expect(page.Locator("table.runs-table tbody tr span.badge")).ToHaveTextAsync("failed");
        await page.GoForwardAsync();
        await Assertions.Expect(page.Locator("select[name=status]")).ToHaveValueAsync("completed");
    }

    [Fact]
    public async Task TenantChosenInTheForm_TheStatsCardsCountThatTenant()
    {
        await fixture.Api.CreateRunAsync(new { workflowName = "browser-tenant-cards", tenantId = "cards-tenant", status = "failed" });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs");
        var everyTenant = await page.Locator("#run-stats .stat-card .stat-value").First.TextContentAsync();

        await page.SelectOptionAsync("select[name=tenant]", "cards-tenant");

        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs?tenant=cards-tenant");
        await Assertions.Expect(page.Locator("#run-stats .stat-card .stat-value").First).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("select[name=tenant]")).ToHaveValueAsync("cards-tenant");
        Assert.NotEqual("1", everyTenant);
    }

    /// A tenant of its own with one run now and one three days ago: 1 in 24 hours, 2 in 7 days.
    private async Task<string> SeedPeriodTenantAsync(string tenant)
    {
        await fixture.Api.CreateRunAsync(new { workflowName = "browser-period", tenantId = tenant, status = "completed" });
        var old = DateTimeOffset.UtcNow.AddDays(-3);
        await fixture.Api.CreateRunAsync(new { workflowName = "browser-period", tenantId = tenant, status = "failed", createdAt = old, startedAt = old, completedAt = old.AddSeconds(5) });
        return $"{fixture.BaseUrl}/ui/runs?tenant={tenant}";
    }

    [Fact]
    public async Task PeriodSwitch_SwapsTheCardsAndPushesTheAddress_TheListKeepsIt_BackRestores()
    {
        var view = await SeedPeriodTenantAsync("period-tenant");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(view);
        await page.EvaluateAsync("() => window.__marker = 'same page'");
        var total = page.Locator("#run-stats .stat-card").First;
        await Assertions.Expect(total.Locator(".stat-label")).ToHaveTextAsync("Total Runs (7d)");
        await Assertions.Expect(total.Locator(".stat-value")).ToHaveTextAsync("2");
        var day = page.Locator(".period-switch a", new() { HasTextString = "24 hours" });

        // From the keyboard, as a person without a mouse would.
        await day.FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page).ToHaveURLAsync(view + "&period=24h");
        await Assertions.Expect(total.Locator(".stat-label")).ToHaveTextAsync("Total Runs (24h)");
        await Assertions.Expect(total.Locator(".stat-value")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator(".period-switch a[aria-current=page]")).ToHaveTextAsync("24 hours");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__marker"));
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(2);

        // The list's links were drawn before the switch: the address they push keeps the period it has now.
        await page.Locator("table.runs-table th.sortable a", new() { HasTextString = "Status" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(view + "&sort=-status&period=24h");
        // What they fetched carried the period shown, so the list drawn in their place keeps it in its own links.
        await Assertions.Expect(page.Locator("table.runs-table th.sortable a", new() { HasTextString = "Created" }))
            .ToHaveAttributeAsync("href", "/ui/runs?tenant=period-tenant&period=24h");
        // Clear empties the filter and keeps the period.
        await Assertions.Expect(page.Locator("#run-filters a.filters-clear")).ToHaveAttributeAsync("href", "/ui/runs?period=24h");
        await page.SelectOptionAsync("select[name=status]", "completed");
        await Assertions.Expect(page).ToHaveURLAsync(view + "&status=completed&sort=-status&period=24h");
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(1);
        // And the switch's own links follow the address.
        await Assertions.Expect(page.Locator(".period-switch a", new() { HasTextString = "30 days" }))
            .ToHaveAttributeAsync("href", "/ui/runs?tenant=period-tenant&status=completed&sort=-status&period=30d");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__marker"));

        // Back loads the page of each address anew (htmx keeps no snapshots): the cards of its period.
        async Task BackAsync(string url)
        {
            await page.EvaluateAsync("() => window.__marker = 'before Back'");
            await page.GoBackAsync();
            await page.WaitForFunctionAsync("() => window.__marker === undefined");
            await Assertions.Expect(page).ToHaveURLAsync(url);
        }
        await BackAsync(view + "&sort=-status&period=24h");
        await BackAsync(view + "&period=24h");
        await Assertions.Expect(total.Locator(".stat-label")).ToHaveTextAsync("Total Runs (24h)");
        await Assertions.Expect(total.Locator(".stat-value")).ToHaveTextAsync("1");
        await BackAsync(view);
        await Assertions.Expect(total.Locator(".stat-label")).ToHaveTextAsync("Total Runs (7d)");
        await Assertions.Expect(total.Locator(".stat-value")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator(".period-switch a[aria-current=page]")).ToHaveTextAsync("7 days");
    }

    [Fact]
    public async Task PeriodSwitch_WithJavaScriptOff_WorksAsLinks_TheFilterFormKeepsIt()
    {
        var view = await SeedPeriodTenantAsync("period-nojs");
        await using var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();
        await page.GotoAsync(view);

        await page.Locator(".period-switch a", new() { HasTextString = "24 hours" }).ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(view + "&period=24h");
        await Assertions.Expect(page.Locator("#run-stats .stat-card .stat-value").First).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#run-filters a.filters-clear")).ToHaveAttributeAsync("href", "/ui/runs?period=24h");
        await page.SelectOptionAsync("select[name=status]", "failed");
        await page.ClickAsync("#run-filters button[type=submit]");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"[?&]status=failed(&|$)"));
        Assert.Matches(@"[?&]period=24h(&|$)", page.Url);
        await Assertions.Expect(page.Locator("#run-stats .stat-card .stat-label").First).ToHaveTextAsync("Total Runs (24h)");
    }

    [Fact]
    public async Task Search_EscapeLeavesTheFieldAndKeepsTheSearch()
    {
        await SeedAsync("browser-escape");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-escape&q=browser");

        await page.Keyboard.PressAsync("/");
        await Assertions.Expect(page.Locator("#filter-q")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");

        await Assertions.Expect(page.Locator("#filter-q")).Not.ToBeFocusedAsync();
        await Assertions.Expect(page.Locator("#filter-q")).ToHaveValueAsync("browser");
        await page.WaitForTimeoutAsync(600); // past the search's 400 ms delay: no request went out to clear it
        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-escape&q=browser");
    }

    [Fact]
    public async Task Modal_OpensOnRowClick_ClosesWithEscapeAndButton_ReturnsFocus()
    {
        await SeedAsync("browser-modal");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-modal&status=failed");
        var row = page.Locator("table.runs-table tbody tr").First;

        await row.Locator("td.workflow").ClickAsync();
        var modal = page.Locator("dialog#run-detail-modal");
        await Assertions.Expect(modal).ToBeVisibleAsync();
        await Assertions.Expect(modal.Locator(".modal-content .error-item .error-message")).ToHaveTextAsync("Boom");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(modal).Not.ToBeVisibleAsync();
        await Assertions.Expect(row).ToBeFocusedAsync();

        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(modal).ToBeVisibleAsync();
        // As a person would: the run's content is there (swapped in by htmx) before the close button is pressed.
        await Assertions.Expect(modal.Locator(".modal-content .error-item .error-message")).ToHaveTextAsync("Boom");
        await modal.Locator(".close-btn").ClickAsync();
        await Assertions.Expect(modal).Not.ToBeVisibleAsync();
        await Assertions.Expect(modal).ToBeEmptyAsync();
    }

    /// In the dark theme (chosen, or the system's) the detail modal's backdrop clearly dims the page: the page's text
    /// behind it falls under 2.5:1 against its background (through the old backdrop it still read at 4.5:1, so the
    /// page hardly looked covered).
    [Theory]
    [InlineData("dark")]
    [InlineData("auto")]
    public async Task Modal_DarkTheme_BackdropDimsThePageBehind(string theme)
    {
        await SeedAsync("browser-backdrop-" + theme);
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "dark", 1440);
        if (theme == "dark") await context.AddCookiesAsync([new Cookie { Name = "runmonitor-theme", Value = theme, Url = fixture.BaseUrl }]);
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-backdrop-" + theme);
        await page.Locator("table.runs-table tbody tr td.workflow").First.ClickAsync();
        await Assertions.Expect(page.Locator("dialog#run-detail-modal .modal-content")).ToBeVisibleAsync();

        var contrast = await page.EvaluateAsync<double>(
            """
            () => {
              const rgba = c => { const [r, g, b, a = 1] = c.match(/[\d.]+/g).map(Number); return { r, g, b, a }; };
              const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a) });
              const lum = c => ['r', 'g', 'b'].map(k => c[k] / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
                .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
              const backdrop = rgba(getComputedStyle(document.getElementById('run-detail-modal'), '::backdrop').backgroundColor);
              const body = getComputedStyle(document.body);
              const text = lum(over(backdrop, rgba(body.color))), ground = lum(over(backdrop, rgba(body.backgroundColor)));
              return (Math.max(text, ground) + 0.05) / (Math.min(text, ground) + 0.05);
            }
            """);
        Assert.True(contrast < 2.5, $"{theme}: the page's text reads at {contrast:F2}:1 through the backdrop");
    }

    [Fact]
    public async Task Modal_FailedRunStackTrace_SummaryShowsADisclosureMarker()
    {
        await fixture.Api.CreateRunAsync(new
        {
            workflowName = "browser-stack", name = "Stack", status = "failed",
            error = new { message = "Boom", type = "BoomError", stack = "BoomError: Boom\n    at main (app.py:1)" },
        });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-stack");
        await page.Locator("table.runs-table tbody tr td.workflow").First.ClickAsync();
        var summary = page.Locator("dialog#run-detail-modal details.stack summary");
        await Assertions.Expect(summary).ToBeVisibleAsync();

        // A summary shows its triangle only as a list item: as an inline block it read as plain text.
        var marker = await summary.EvaluateAsync<string>("s => { const c = getComputedStyle(s); return c.display + ' ' + c.listStyleType; }");
        Assert.StartsWith("list-item ", marker);
        Assert.DoesNotContain("none", marker);
        await summary.ClickAsync();
        await Assertions.Expect(page.Locator("dialog#run-detail-modal pre.stack-trace")).ToBeVisibleAsync();
    }

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task StepsMeter_FillsInTheRunsStatusColour(string theme)
    {
        var steps = new[] { new { stepId = "a", skillId = "s" }, new { stepId = "b", skillId = "s" } };
        foreach (var status in new[] { "failed", "running", "completed" })
        {
            var id = (await fixture.Api.CreateRunAsync(new { workflowName = "browser-meter-" + theme, name = status, status, steps })).GetProperty("id").GetString()!;
            await fixture.Api.PutStepAsync(id, "a", new { status = "completed" });
        }
        await using var context = await AccessibilityTests.NewContextAsync(fixture, theme, 1440);
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-meter-" + theme);

        // Pixels, read back on a blank page (the app's CSP allows no data: images): a pseudo-element's style is not.
        var blank = await context.NewPageAsync();
        foreach (var status in new[] { "failed", "running", "completed" })
        {
            var meter = page.Locator($"table.runs-table tbody tr:has(span.badge-{status}) .steps-progress meter");
            var want = await meter.EvaluateAsync<int[]>(
                """
                m => { const probe = document.createElement('span'); probe.style.color = getComputedStyle(m.closest('.steps-progress')).getPropertyValue('--st-' + m.closest('tr').querySelector('.badge').textContent.trim());
                       document.body.append(probe); const c = getComputedStyle(probe).color; probe.remove(); return c.match(/\d+/g).slice(0, 3).map(Number); }
                """);
            var png = Convert.ToBase64String(await meter.ScreenshotAsync());
            // The meter is half full: a quarter of the way in is the fill, three quarters the track.
            var seen = await blank.EvaluateAsync<int[][]>(
                """
                src => new Promise(done => { const img = new Image(); img.onload = () => { const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
                  const g = c.getContext('2d'); g.drawImage(img, 0, 0); const y = Math.floor(img.height / 2);
                  done([Math.floor(img.width / 4), Math.floor(img.width * 3 / 4)].map(x => [...g.getImageData(x, y, 1, 1).data].slice(0, 3))); }; img.src = 'data:image/png;base64,' + src; })
                """, png);
            // The filled part is the status's own colour (the browser's default was green whatever the status), the
            // rest a track that differs from it.
            Assert.True(seen[0].Zip(want).All(p => Math.Abs(p.First - p.Second) <= 3), $"{theme} {status}: fill {string.Join(",", seen[0])}, want {string.Join(",", want)}");
            Assert.False(seen[1].Zip(want).All(p => Math.Abs(p.First - p.Second) <= 3), $"{theme} {status}: the track is the fill's colour");
        }
    }

    [Fact]
    public async Task Toast_WhileModalIsOpen_IsOnTopAndClickable()
    {
        await SeedAsync("browser-toast");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-toast&status=failed");
        await page.Locator("table.runs-table tbody tr td.workflow").First.ClickAsync();
        await Assertions.Expect(page.Locator("dialog#run-detail-modal")).ToBeVisibleAsync();

        await page.EvaluateAsync("() => window.RunMonitor.toast('Saved', 'success', '/ui/runs', 'Open')");

        var link = page.Locator("#toasts .toast a");
        await Assertions.Expect(link).ToBeVisibleAsync();
        var onTop = await link.EvaluateAsync<bool>("a => { const r = a.getBoundingClientRect(); return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === a; }");
        var what = await link.EvaluateAsync<string>("a => { const r = a.getBoundingClientRect(); const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); return (e ? e.outerHTML.slice(0, 80) : 'null') + ' open=' + document.getElementById('toasts').matches(':popover-open') + ' rect=' + JSON.stringify(r); }");
        Assert.True(onTop, "the toast's link is covered by the modal: " + what);
    }

    [Fact]
    public async Task Pagination_WithJavaScriptOff_WorksAsLinks()
    {
        for (var i = 0; i < 12; i++) await fixture.Api.CreateRunAsync(new { workflowName = "browser-nojs", status = "completed" });
        await using var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();

        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-nojs&limit=10");
        await page.ClickAsync(".pagination a[rel=next]");

        await Assertions.Expect(page.Locator(".page-info")).ToHaveTextAsync("11-12 of 12");
        Assert.Contains("/ui/runs?layer_name=browser-nojs&offset=10&limit=10&after=", page.Url);
    }
}
