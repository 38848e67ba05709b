using System.Net.Http.Json;
using System.Text.Json;
using RunMonitor.Tests.Infrastructure;
using Microsoft.Playwright;

namespace RunMonitor.Tests.Browser;

/// At 390 px (a phone) every page fits its width: the runs table keeps Run, Status and Created in view,
/// admin tables and the chart fit their cards, and nothing runs past a card's edge or padding.
/// At laptop widths the runs and workers tables fit their cards as well.
[Collection(BrowserCollection.Name)]
public sealed class PhoneLayoutTests(BrowserFixture fixture)
{
    /// Elements wider than their box, or past their card's padding, as "selector: what" lines.
    private const string Overflows =
        """
        () => {
          const out = [];
          const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
          if (document.documentElement.scrollWidth > window.innerWidth) out.push('page: ' + document.documentElement.scrollWidth + ' px wide in ' + window.innerWidth);
          for (const box of document.querySelectorAll('.card, .stat-card, .json-viewer, .table-wrap, .filters, dialog[open]')) {
            if (box.offsetParent === null && box.tagName !== 'DIALOG') continue;
            if (box.scrollWidth > box.clientWidth + 1) out.push(name(box) + ': content ' + box.scrollWidth + ' px in ' + box.clientWidth);
            const r = box.getBoundingClientRect(), s = getComputedStyle(box);
            const right = r.right - parseFloat(s.borderRightWidth) - parseFloat(s.paddingRight);
            for (const item of box.querySelectorAll('.tag, .btn, .badge, h2, .jv-head > *')) {
              if (item.offsetParent === null) continue;
              const scroller = item.closest('.jv-tree, .stack-trace, .table-wrap, .errors-list');
              if (scroller && scroller !== box && box.contains(scroller)) continue;
              const ir = item.getBoundingClientRect();
              if (ir.right > right + 1) out.push(name(item) + ' ends at ' + Math.round(ir.right) + ' past ' + name(box) + "'s padding at " + Math.round(right));
            }
          }
          return out;
        }
        """;

    private static async Task AssertFitsAsync(IPage page, string what)
    {
        var problems = await page.EvaluateAsync<string[]>(Overflows);
        Assert.True(problems.Length == 0, $"{what} at {page.ViewportSize!.Width} px:\n" + string.Join("\n", problems));
    }

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task Phone_EveryPage_FitsWithoutSidewaysScroll(string theme)
    {
        var runs = await AccessibilityTests.SeedAsync(fixture);
        await using var context = await AccessibilityTests.NewContextAsync(fixture, theme, 390);
        var page = await context.NewPageAsync();

        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs");
        await AssertRunsTableFitsAsync(page, runs.Failed);
        var row = page.Locator($"table.runs-table tbody tr[data-run-id='{runs.Failed}']");
        await row.Locator("td.time").ClickAsync();
        await Assertions.Expect(page.Locator("dialog#run-detail-modal .modal-content")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "the modal");

        await page.GotoAsync($"{fixture.BaseUrl}/runs/{runs.Failed}");
        await Assertions.Expect(page.Locator("#step-panel .step-panel")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "failed run page");
        // A fact that is one long word (the run's id) takes its row rather than breaking mid-word, and a JSON viewer's
        // buttons wrap together, never one of them alone on a line.
        var apart = await page.EvaluateAsync<string[]>(
            """
            () => {
              const lines = e => { const r = document.createRange(); r.selectNodeContents(e);
                                   return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size; };
              const out = [];
              for (const e of document.querySelectorAll('.facts .fact-id, .facts .fact-workflow, .step-facts .step-input-hash'))
                if (e.offsetParent !== null && lines(e) > 1) out.push(e.className + ': ' + lines(e) + ' lines');
              let groups = 0;
              for (const g of document.querySelectorAll('.jv-actions')) {
                const shown = [...g.children].filter(b => b.offsetParent !== null);
                if (shown.length < 2) continue;
                groups++;
                if (new Set(shown.map(b => Math.round(b.getBoundingClientRect().top))).size > 1) out.push('.jv-actions: its buttons on several lines');
              }
              if (groups === 0) out.push('no JSON viewer with two buttons or more');
              return out;
            }
            """);
        Assert.True(apart.Length == 0, string.Join("\n", apart));
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{runs.Running}?step=render");
        await AssertFitsAsync(page, "running run page");

        await page.GotoAsync($"{fixture.BaseUrl}/admin");
        await AssertFitsAsync(page, "/admin");
        await page.GotoAsync($"{fixture.BaseUrl}/admin?days=30");
        await AssertFitsAsync(page, "/admin?days=30");
        await page.GotoAsync($"{fixture.BaseUrl}/login");
        await AssertFitsAsync(page, "/login");

        // The workers table keeps Worker, Status, Runs held (each id whole) and Last seen; the tenant goes
        // under the worker's name, generated from data-tenant, so the name's cell still reads as the name alone.
        await SeedWideRunsAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
        await Assertions.Expect(page.Locator("tr[data-worker='laptop-worker-01'] .worker-run")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "/ui/workers");
        var headers = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('table.workers-table thead th')].filter(e => e.offsetParent !== null).map(e => e.textContent.trim())");
        Assert.Equal(["Worker", "Status", "Runs held", "Last seen"], headers);
        var tenant = await page.EvaluateAsync<string[]>(
            """
            () => { const name = document.querySelector("tr[data-worker='laptop-worker-01'] .worker-name");
                    const cell = document.querySelector("tr[data-worker='laptop-worker-01'] td.worker-tenant");
                    return [name.textContent, getComputedStyle(name, '::after').content, cell.textContent]; }
            """);
        Assert.Equal(["laptop-worker-01", $"\"{tenant[2]}\"", tenant[2]], tenant);
        Assert.NotEqual("", tenant[2]);
        // A narrower phone (360 px) as well: ids, paddings and the name's width give way a little more.
        await page.SetViewportSizeAsync(360, 800);
        await AssertFitsAsync(page, "/ui/workers");
        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs");
        await AssertRunsTableFitsAsync(page, runs.Failed);
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{runs.Failed}");
        await Assertions.Expect(page.Locator("#step-panel .step-panel")).ToBeVisibleAsync();
        await AssertFitsAsync(page, "failed run page");
        foreach (var path in new[] { "/admin", "/bulk", "/login" })
        {
            await page.GotoAsync(fixture.BaseUrl + path);
            await AssertFitsAsync(page, path);
        }
    }

    /// WCAG 2.2 target size (2.5.8): on a phone the runs table's sort links, its export links and the workers page's
    /// links to held runs are 24 px tall or more (they were 14 to 18); on a laptop the header row is no taller for it.
    [Fact]
    public async Task Phone_SmallLinks_AreTargetsAtLeast24PxTall()
    {
        await AccessibilityTests.SeedAsync(fixture);
        await SeedWideRunsAsync();
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", 390);
        var page = await context.NewPageAsync();
        const string Heights =
            """
            sel => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null)
              .map(e => ({ name: e.textContent.trim(), height: e.getBoundingClientRect().height }))
            """;

        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs");
        var links = await page.EvaluateAsync<JsonElement>(Heights, "table.runs-table thead th a, .list-tools a");
        await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
        await Assertions.Expect(page.Locator("tr[data-worker='laptop-worker-01'] .worker-run")).ToBeVisibleAsync();
        var held = await page.EvaluateAsync<JsonElement>(Heights, "a.worker-run");

        var measured = links.EnumerateArray().Concat(held.EnumerateArray())
            .Select(e => (Name: e.GetProperty("name").GetString(), Height: e.GetProperty("height").GetDouble())).ToList();
        Assert.Equal(["CSV", "JSON", "Status", "Created"], measured.Take(4).Select(m => m.Name));
        Assert.True(measured.Count > 4, "no held run's link on /ui/workers");
        var small = measured.Where(m => m.Height < 24).Select(m => $"{m.Name}: {m.Height:F1} px").ToList();
        Assert.True(small.Count == 0, "under 24 px tall at 390 px:\n" + string.Join("\n", small));

        await page.SetViewportSizeAsync(1440, 900);
        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs");
        // 42.6 px, as before the links grew: the select-all box's cell sets it.
        Assert.InRange(await page.EvaluateAsync<double>("() => document.querySelector('table.runs-table thead tr').getBoundingClientRect().height"), 40, 43);
        // And a held run's id keeps its place on its row's line (its smaller type ends a little above the time's), not
        // pushed down by its taller target.
        await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
        var bottoms = await page.EvaluateAsync<double[]>(
            """
            () => ['.worker-run', 'td.worker-seen'].map(sel => { const r = document.createRange();
              r.selectNodeContents(document.querySelector(`tr[data-worker='laptop-worker-01'] ${sel}`)); return r.getBoundingClientRect().bottom; })
            """);
        Assert.True(bottoms[0] <= bottoms[1] + 0.5, $"the held run's id ends at {bottoms[0]:F1}, below the last-seen time at {bottoms[1]:F1}");
    }

    /// A ghost button has no edge of its own: where one begins a row (the saved views' "Save this view", the bulk bar's
    /// "Clear selection", the run page's and the modal's "← Previous", the log tools) its word lines up with the content
    /// edge the text above it starts at, not a padding (8 to 14 px) in.
    [Theory]
    [InlineData(1440)]
    [InlineData(390)]
    public async Task GhostButtons_BeginningARow_LineTheirWordUpWithTheContentEdge(int width)
    {
        var runs = await AccessibilityTests.SeedAsync(fixture);
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
        var page = await context.NewPageAsync();
        var seen = new List<string>();
        var misaligned = new List<string>();
        async Task CheckAsync(string where)
        {
            var ghosts = await page.EvaluateAsync<JsonElement>(
                """
                () => [...document.querySelectorAll('.btn-ghost')].filter(e => e.offsetParent !== null).map(e => {
                  const box = e.parentElement.closest('.artifact, .modal-content, .card, .bulk-bar, .saved-views, main');
                  const s = getComputedStyle(box), b = box.getBoundingClientRect();
                  const edge = b.left + parseFloat(s.borderLeftWidth) + parseFloat(s.paddingLeft);
                  const r = document.createRange(); r.selectNodeContents(e);
                  return { name: e.textContent.trim(), box: e.getBoundingClientRect().left - edge, text: r.getBoundingClientRect().left - edge };
                })
                """);
            // Those within a padding of the edge begin their row; the rest follow something on it.
            foreach (var g in ghosts.EnumerateArray().Where(g => g.GetProperty("box").GetDouble() < 16))
            {
                var line = $"{where}: \"{g.GetProperty("name").GetString()}\" word at {g.GetProperty("text").GetDouble():F1} px from the edge";
                seen.Add(line);
                if (Math.Abs(g.GetProperty("text").GetDouble()) > 1.5) misaligned.Add(line);
            }
        }

        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name=a11y-campaign");
        await page.Locator($"tr[data-run-id='{runs.Failed}'] input.run-select").CheckAsync();
        await Assertions.Expect(page.Locator(".bulk-bar .bulk-clear")).ToBeVisibleAsync();
        await CheckAsync("/ui/runs");
        await page.Locator($"tr[data-run-id='{runs.Failed}'] td.time").ClickAsync();
        await Assertions.Expect(page.Locator("dialog#run-detail-modal .run-walk .walk-prev")).ToBeVisibleAsync();
        await CheckAsync("the modal");
        await page.GotoAsync($"{fixture.BaseUrl}/runs/{runs.Failed}?list=layer_name%3Da11y-campaign&at=1&step=bgm_track");
        await Assertions.Expect(page.Locator("#step-panel .log-wrap-toggle")).ToBeVisibleAsync();
        await CheckAsync("failed run page");

        Assert.True(misaligned.Count == 0, $"at {width} px:\n" + string.Join("\n", misaligned));
        foreach (var expected in new[] { "the modal: \"← Previous\"", "failed run page: \"← Previous\"", "failed run page: \"Wrap lines\"" })
            Assert.Contains(seen, line => line.StartsWith(expected, StringComparison.Ordinal));
    }

    /// The runs table keeps Run, Status and Created and a run's name and id within the screen's width (the table
    /// itself sits below the fold), and nothing on the page runs past its card.
    private static async Task AssertRunsTableFitsAsync(IPage page, string runId)
    {
        var shown = await page.EvaluateAsync<string[]>(
            """
            (id) => [...document.querySelectorAll('table.runs-table thead th'), ...document.querySelectorAll(`tr[data-run-id="${id}"] .run-name, tr[data-run-id="${id}"] .run-id, tr[data-run-id="${id}"] td.time`)]
              .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; })
              .map(e => e.tagName === 'TH' ? e.textContent.trim() : e.className)
            """, runId);
        // The first header is the page's select-all box (the loopback caller may act on runs): it has no text.
        string[] expected = ["", "Run", "Status", "Created", "run-name", "run-id mono", "time"];
        Assert.True(expected.SequenceEqual(shown), $"at {page.ViewportSize!.Width} px, in view: {string.Join(", ", shown)}");
        await AssertFitsAsync(page, "/ui/runs");
    }

    /// A failed run's error, under its id, wraps within the run's cell on two lines at most however long its words: the
    /// table keeps Run, Status and Created in a phone's width and fits a laptop's. A phone's two lines are the message's
    /// alone; a laptop's start with the code. What the two lines clip lies over no other row (axe could not tell the
    /// colours of the next run's name under it).
    [Theory]
    [InlineData(390)]
    [InlineData(360)]
    [InlineData(1440)]
    public async Task RunsTable_ErrorOfLongWords_WrapsWithinItsCellOnTwoLinesAtMost(int width)
    {
        var workflow = $"row-error-wide-{width}";
        await fixture.Api.CreateRunAsync(new { workflowName = workflow, name = "Listed below it", status = "completed", createdAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O") });
        var id = (await fixture.Api.CreateRunAsync(new
        {
            workflowName = workflow, name = "Spring sale campaign", status = "failed",
            error = new { message = "/srv/engine/" + string.Concat(Enumerable.Repeat("assets_bundle_", 30)) + ".ogg not found", type = "zos.llm.errors.BundleResolutionError", code = "BUNDLE_NOT_FOUND" },
        })).GetProperty("id").GetString()!;
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
        var page = await context.NewPageAsync();

        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name={workflow}");

        var error = page.Locator($"tr[data-run-id='{id}'] td.run-cell .row-error");
        await Assertions.Expect(error).ToBeVisibleAsync();
        if (width < 600) await AssertRunsTableFitsAsync(page, id);
        else await AssertFitsAsync(page, "/ui/runs");
        if (width < 600) await Assertions.Expect(error.Locator(".row-error-kind")).ToBeHiddenAsync();
        else await Assertions.Expect(error.Locator(".row-error-kind code.error-code")).ToBeVisibleAsync();
        var box = await error.EvaluateAsync<double[]>(
            """
            e => { const r = e.getBoundingClientRect(), cell = e.closest('td').getBoundingClientRect();
                   return [r.height / parseFloat(getComputedStyle(e).lineHeight), r.left - cell.left, cell.right - r.right, window.innerWidth - r.right]; }
            """);
        Assert.True(Math.Abs(box[0] - 2) < 0.1, $"at {width} px the error is {box[0]:F2} lines tall");
        Assert.True(box[1] >= 0 && box[2] >= 0 && box[3] >= 0, $"at {width} px the error is not within its cell and the screen: {string.Join(", ", box)}");
        Assert.Equal("", await AccessibilityTests.AxeAsync(page, $"/ui/runs at {width} px", rule: "color-contrast"));
    }

    /// Between a phone and a wide screen the runs table lets its low-value columns step aside in turn (Targets and
    /// Insights up to 1,400 px, then Steps and Tokens), so Run, Status and Created stay in view without sideways
    /// scrolling; and the nine cards sit in one row or in two rows of five columns, the total taking two. The runs shown are as wide as the demo's
    /// widest: a long workflow name, a count of skipped targets, seven-digit tokens, an estimated cost. The workers
    /// table fits too, its names, hosts, versions and times each on one line.
    [Theory]
    [InlineData(1024)]
    [InlineData(1180)]
    [InlineData(1280)]
    [InlineData(1366)]
    [InlineData(1410)]
    [InlineData(1440)]
    [InlineData(1500)]
    [InlineData(1600)]
    [InlineData(1920)]
    public async Task Laptop_RunsAndWorkersTables_FitWithoutSidewaysScroll(int width)
    {
        await SeedWideRunsAsync();
        // Times as words ("2 minutes ago") and as the UTC time the header's switch shows instead, the wider of the two.
        foreach (var times in new[] { "relative", "utc" })
        {
            await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
            await context.AddCookiesAsync([new Cookie { Name = "runmonitor-time", Value = times, Url = fixture.BaseUrl }]);
            var page = await context.NewPageAsync();
            await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name={Workflow}");
            await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(2);
            var what = $"at {width} px with {times} times";

            await AssertFitsAsync(page, $"/ui/runs with {times} times");
            var shown = await page.EvaluateAsync<string[]>(
                """
                () => [...document.querySelectorAll('table.runs-table thead th')]
                  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right <= window.innerWidth; })
                  .map(e => e.textContent.trim())
                """);
            foreach (var header in new[] { "Run", "Tenant", "Workflow", "Status", "Cost", "Duration", "Created" })
                Assert.True(shown.Any(h => h.StartsWith(header, StringComparison.Ordinal)), $"{what} {header} is not in view: {string.Join(", ", shown)}");
            // Where the whole table fits (a 1440-px laptop too), nothing steps aside: the skipped targets are in view.
            if (width >= 1440)
            {
                Assert.Contains("Targets", shown);
                Assert.Contains("Insights", shown);
                await Assertions.Expect(page.Locator("table.runs-table tbody td.col-wide .text-error").First).ToHaveTextAsync("(55 skipped)");
                await Assertions.Expect(page.Locator("table.runs-table tbody td.col-wide .text-error").First).ToBeInViewportAsync();
            }

            var rows = await page.EvaluateAsync<int[]>(
                """
                () => { const rows = new Map();
                        for (const c of document.querySelectorAll('#run-stats .stat-card')) { const top = Math.round(c.getBoundingClientRect().top); rows.set(top, (rows.get(top) || 0) + 1); }
                        return [...rows.values()]; }
                """);
            Assert.True(rows is [9] or [4, 5], $"{what} the cards sit in rows of {string.Join(", ", rows)}");

            // The workers table likewise, a worker's host and version in view at every laptop width.
            await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
            await Assertions.Expect(page.Locator("table.workers-table tr[data-worker='laptop-worker-01']")).ToBeVisibleAsync();
            await AssertFitsAsync(page, $"/ui/workers with {times} times");
            await Assertions.Expect(page.Locator("tr[data-worker='laptop-worker-01'] .worker-host")).ToBeInViewportAsync();
            await Assertions.Expect(page.Locator("tr[data-worker='laptop-worker-01'] .worker-version")).ToBeInViewportAsync();
            // Names and times on one line each, not broken at their hyphens or spaces into a column of pieces.
            var broken = await page.EvaluateAsync<string[]>(
                """
                () => [...document.querySelectorAll("tr[data-worker='laptop-worker-01'] :is(.worker-name, .worker-host, .worker-version, .worker-seen)")]
                  .filter(e => e.offsetParent !== null)
                  .filter(e => { const r = document.createRange(); r.selectNodeContents(e); return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size > 1; })
                  .map(e => e.className)
                """);
            Assert.True(broken.Length == 0, $"{what} these workers' cells break over lines: {string.Join(", ", broken)}");
        }
    }

    /// The runs a worker holds show their whole ids, wrapped within their column rather than cut (runs claimed together
    /// share their ids' first characters and differ in their last, and an id cut at its start read as another); on a
    /// phone the worker's host and version step aside, and its tenant goes under its name.
    [Theory]
    [InlineData(1024)]
    [InlineData(390)]
    [InlineData(360)]
    public async Task Workers_HeldRunIds_ShownWhole_HostAndVersionStepAsideOnAPhone(int width)
    {
        await SeedWideRunsAsync();
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/ui/workers");
        var row = page.Locator("tr[data-worker='laptop-worker-01']");
        await Assertions.Expect(row.Locator(".worker-run").First).ToBeVisibleAsync();

        var cut = await page.EvaluateAsync<string[]>(
            """
            () => [...document.querySelectorAll('a.worker-run')].filter(e => e.offsetParent !== null).filter(e => {
              const r = document.createRange(); r.selectNodeContents(e);
              const text = r.getBoundingClientRect(), box = e.getBoundingClientRect();
              return text.left < box.left - 0.5 || text.right > box.right + 0.5 || getComputedStyle(e).textOverflow === 'ellipsis';
            }).map(e => e.textContent)
            """);
        Assert.True(cut.Length == 0, $"at {width} px these held runs' ids are cut: {string.Join(", ", cut)}");
        await AssertFitsAsync(page, "/ui/workers");
        if (width > 760)
        {
            await Assertions.Expect(row.Locator(".worker-host")).ToBeInViewportAsync();
            await Assertions.Expect(row.Locator(".worker-version")).ToBeInViewportAsync();
        }
        else
        {
            await Assertions.Expect(row.Locator(".worker-host")).ToBeHiddenAsync();
            await Assertions.Expect(row.Locator(".worker-version")).ToBeHiddenAsync();
        }
    }

    /// On a phone /admin's alert rules keep their names whole ("queue-backlog", not "queue-backlo" over "g", nor a word
    /// a line down each hyphen), their scope's workflow too; a name longer than its column wraps at its hyphens and stays
    /// within its card.
    [Theory]
    [InlineData(390)]
    [InlineData(360)]
    public async Task Phone_AdminAlertRules_KeepTheirNamesWhole(int width)
    {
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/admin");
        await Assertions.Expect(page.Locator($"#alert-rules tr[data-rule='{BrowserFixture.BacklogRule}']")).ToBeVisibleAsync();

        await AssertFitsAsync(page, "/admin");
        // Each name's own text (the rule's name in both tables, the scope's workflow), wherever in its row it is drawn:
        // on how many lines, and each line's part of it.
        const string Lines =
            """
            ([sel, word]) => [...document.querySelectorAll(sel)].filter(tr => tr.offsetParent !== null).map(tr => {
              const walk = document.createTreeWalker(tr, NodeFilter.SHOW_TEXT);
              for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                const at = n.data.indexOf(word || tr.dataset.rule);
                if (at < 0 || n.parentElement.offsetParent === null) continue;
                const out = []; let line = '', top = null;
                for (let i = at; i < at + (word || tr.dataset.rule).length; i++) {
                  const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
                  const t = Math.round(r.getBoundingClientRect().top);
                  if (top !== null && Math.abs(t - top) > 2) { out.push(line); line = ''; }
                  top = t; line += n.data[i];
                }
                out.push(line);
                return out;
              }
              return ['not shown: ' + tr.dataset.rule];
            })
            """;
        var names = (await page.EvaluateAsync<string[][]>(Lines, new object?[] { "#alert-rules tbody tr, #alert-events tbody tr", null }))
            .Concat(await page.EvaluateAsync<string[][]>(Lines, new object?[] { $"#alert-rules tr[data-rule='{BrowserFixture.BacklogRule}']", "nightly-user-reflection" }))
            .ToList();
        var broken = names.Where(n => n.Length > 1 && string.Concat(n) != BrowserFixture.LongRule || n is [var only] && only.StartsWith("not shown", StringComparison.Ordinal))
            .Select(n => string.Join(" / ", n)).ToList();
        Assert.True(broken.Count == 0, $"at {width} px these names break over lines:\n" + string.Join("\n", broken));
        // The long one wraps at its hyphens: every line but the last ends with one.
        var pieces = names.First(n => string.Concat(n) == BrowserFixture.LongRule);
        Assert.True(pieces.Length > 1, $"at {width} px the long rule's name is on one line");
        Assert.All(pieces[..^1], p => Assert.EndsWith("-", p));
    }

    private const string Workflow = "nightly-user-reflection-wide";
    private const string HeldWorkflow = "laptop-held-wf";
    private static readonly SemaphoreSlim WideSeedLock = new(1, 1);
    private static readonly HashSet<BrowserFixture> WideSeeded = [];

    private async Task SeedWideRunsAsync()
    {
        await WideSeedLock.WaitAsync();
        try
        {
            if (WideSeeded.Contains(fixture))
            {
                await HoldARunAsync();
                return;
            }
            var now = DateTimeOffset.UtcNow;
            foreach (var name in new[] { "Weekly self-reflection for every account", "Nightly user reflection" })
            {
                await fixture.Api.CreateRunAsync(new
                {
                    workflowName = Workflow, name, status = "completed",
                    startedAt = (now - TimeSpan.FromMinutes(3)).ToString("O"), completedAt = (now - TimeSpan.FromSeconds(37)).ToString("O"),
                    steps = new[] { new { stepId = "collect", skillId = "reflect.collect" }, new { stepId = "reflect", skillId = "reflect.write" } },
                    metrics = new { targetsMatched = 12_400, targetsProcessed = 12_345, targetsSkipped = 55, insightsCreated = 98_765 },
                    usage = new { provider = "openai", model = "gpt-4o-mini", tokensInput = 1_190_086, tokensOutput = 88_321 },
                });
            }
            var beat = await fixture.Api.PostAsJsonAsync("/api/workers/laptop-worker-01/heartbeat", new
            {
                host = "build-host-eu-west-01", version = "campaign-engine/2.31.4",
                workflows = new[] { "campaign_generation", "nightly-user-reflection", "weekly-self-reflection", Workflow },
            });
            Assert.True(beat.IsSuccessStatusCode);
            await HoldARunAsync();
            WideSeeded.Add(fixture);
        }
        finally
        {
            WideSeedLock.Release();
        }
    }

    /// The laptop worker holds a run (its id is the one cell of the workers table that cannot wrap): claimed again when
    /// the last one's minute-long lease ran out between the tests that read it.
    private async Task HoldARunAsync()
    {
        var workers = (await fixture.Api.GetJsonAsync("/api/workers")).AsArray();
        if (workers.Any(w => (string)w!["name"]! == "laptop-worker-01" && w["runsHeld"]!.AsArray().Count > 0)) return;
        await fixture.Api.CreateRunAsync(new { workflowName = HeldWorkflow, name = "Held by the laptop worker" });
        var claim = await fixture.Api.PostAsJsonAsync("/api/queue/claim", new { worker = "laptop-worker-01", workflows = new[] { HeldWorkflow } });
        Assert.Equal(System.Net.HttpStatusCode.OK, claim.StatusCode);
    }

    /// /admin's cards fill each row of its grid: no half-width card (the price table, retention) beside an empty column.
    [Theory]
    [InlineData(1440)]
    [InlineData(390)]
    public async Task Admin_Cards_LeaveNoEmptyColumn(int width)
    {
        await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{fixture.BaseUrl}/admin");

        var holes = await page.EvaluateAsync<string[]>(
            """
            () => {
              const grid = document.querySelector('.admin-grid'), right = grid.getBoundingClientRect().right;
              const rows = new Map();
              for (const card of grid.children) {
                const r = card.getBoundingClientRect(), top = Math.round(r.top);
                if (!rows.has(top) || rows.get(top).right < r.right) rows.set(top, { right: r.right, id: card.getAttribute('aria-labelledby') });
              }
              return [...rows.values()].filter(r => r.right < right - 1).map(r => `${r.id} ends ${Math.round(right - r.right)} px before the grid's edge`);
            }
            """);
        Assert.True(holes.Length == 0, $"at {width} px:\n" + string.Join("\n", holes));
    }

    [Fact]
    public async Task AdminChart_AxisText_KeepsItsSizeAtEveryWidth()
    {
        var sizes = new List<double>();
        foreach (var width in new[] { 1440, 390, 360 })
        {
            await using var context = await AccessibilityTests.NewContextAsync(fixture, "light", width);
            var page = await context.NewPageAsync();
            await page.GotoAsync($"{fixture.BaseUrl}/admin");
            var measured = await page.EvaluateAsync<JsonElement>(
                "() => [...document.querySelectorAll('#runs-chart .chart-y span, #runs-chart .chart-x span')].map(s => s.getBoundingClientRect().height)");
            sizes.AddRange(measured.EnumerateArray().Select(e => e.GetDouble()).Where(h => h > 0));
            // And the day labels do not run into each other (a week's "Nov 28" is wider than its day on a phone).
            var labels = await page.EvaluateAsync<double[][]>(
                """
                () => [...document.querySelectorAll('#runs-chart .chart-x > span')].filter(s => s.textContent.trim())
                  .map(s => { const r = document.createRange(); r.selectNodeContents(s); const b = r.getBoundingClientRect(); return [b.left, b.right]; })
                """);
            Assert.NotEmpty(labels);
            for (var i = 1; i < labels.Length; i++)
                Assert.True(labels[i][0] >= labels[i - 1][1], $"at {width} px day label {i} starts at {labels[i][0]:F1}, before label {i - 1} ends at {labels[i - 1][1]:F1}");
        }

        Assert.NotEmpty(sizes);
        Assert.All(sizes, h => Assert.InRange(h, 15, 17));
    }
}
