using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// axe-core (from npm, injected into the page) on every screen people use, light and dark, desk and phone:
/// WCAG 2.0/2.1/2.2 A and AA plus best practice: zero violations, and zero `incomplete` (a check axe could not settle
/// fails too: each one so far had a fix, from drawn icons to holding htmx's polling while axe reads the page).
[Collection(BrowserCollection.Name)]
public sealed class AccessibilityTests(BrowserFixture fixture)
{
    private static readonly string[] Tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"];

    private static readonly SemaphoreSlim SeedLock = new(1, 1);
    private static readonly Dictionary<BrowserFixture, AccessibilityRuns> Seeded = [];

    public static TheoryData<string, int> Views => new() { { "light", 1440 }, { "dark", 1440 }, { "light", 390 }, { "dark", 390 } };

    [Theory]
    [MemberData(nameof(Views))]
    public async Task EveryScreen_Axe_NoViolations(string theme, int width)
    {
        var runs = await SeedAsync(fixture);
        await using var context = await NewContextAsync(fixture, theme, width);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        var findings = new StringBuilder();

        async Task Check(string name)
        {
            findings.Append(await AxeAsync(page, name));
        }

        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs");
        await Check("/ui/runs");
        // Issue 19: the saved views with the save form open, and the shortcuts dialog.
        await page.Locator(".saved-views details.save-view summary").ClickAsync();
        await Check("/ui/runs with Save this view open");
        // A name taken: the answer beside the form, with its replace form.
        var taken = await (await fixture.Api.PostAsJsonAsync("/api/views", new { name = $"a11y taken {theme} {width}", query = "status=failed" })).Content.ReadFromJsonAsync<JsonElement>();
        await page.Locator(".save-view-form input[name=name]").FillAsync($"a11y taken {theme} {width}");
        await page.Locator(".save-view-form button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator(".save-view-answer form.save-view-replace")).ToBeVisibleAsync();
        await Check("/ui/runs with a view name taken, its replace form beside");
        await fixture.Api.DeleteAsync($"/api/views/{taken.GetProperty("id").GetInt64()}");
        await page.Locator("body").PressAsync("?");
        await Assertions.Expect(page.Locator("#shortcuts-dialog")).ToBeVisibleAsync();
        await Check("/ui/runs with the shortcuts dialog");
        await page.Keyboard.PressAsync("Escape");
        // The seeded run from its own workflow's list: the other browser tests' runs may have pushed it off the first page.
        await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name=a11y-campaign");
        await page.Locator($"table.runs-table tbody tr[data-run-id='{runs.Failed}'] td.time").ClickAsync();
        await Assertions.Expect(page.Locator("dialog#run-detail-modal .modal-content")).ToBeVisibleAsync();
        await Check("/ui/runs with the modal open");
        await page.Locator("#run-detail-modal .run-actions button[data-action=retry]").ClickAsync();
        var retryDialog = page.Locator($"dialog[id='modal-retry-dialog-{runs.Failed}']");
        await retryDialog.Locator("details.edit-input summary").ClickAsync();
        await Assertions.Expect(retryDialog.Locator("textarea[name=triggerPayload]")).ToBeEnabledAsync();
        await Check("the modal's retry dialog with Edit input open");
        await page.Keyboard.PressAsync("Escape");

        // Selected rows (their own tint) of every status: the campaign's failed and running runs, the digest's others.
        foreach (var workflow in new[] { "a11y-campaign", "a11y-digest" })
        {
            await page.GotoAsync($"{fixture.BaseUrl}/ui/runs?layer_name={workflow}");
            await page.Locator("table.runs-table input.run-select-page").CheckAsync();
            await Assertions.Expect(page.Locator("table.runs-table tbody tr:not(.is-selected)")).ToHaveCountAsync(0);
            await Check($"/ui/runs?layer_name={workflow}, every row selected");
        }

        await page.GotoAsync($"{fixture.BaseUrl}/runs/{runs.Failed}?list=layer_name%3Da11y-campaign&at=1");
        await Assertions.Expect(page.Locator("#step-panel .step-panel")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".run-walk .walk-position")).ToBeVisibleAsync();
        await Check("failed run page from its list, failing step open");

        await page.GotoAsync($"{fixture.BaseUrl}/runs/{runs.Completed}");
        await page.Locator(".run-actions button[data-action=run-again]").ClickAsync();
        await page.Locator($"dialog[id='page-run-again-dialog-{runs.Completed}'] details.edit-input summary").ClickAsync();
        await Check("completed run page, Run again with Edit input open");
        await page.Keyboard.PressAsync("Escape");

        await page.GotoAsync($"{fixture.BaseUrl}/runs/{runs.Running}");
        await page.Locator(".step-chain .step-chip[data-step-id=render] a").ClickAsync();
        await Assertions.Expect(page.Locator("#step-panel .step-panel[data-step-id=render]")).ToBeVisibleAsync();
        // The opened panel scrolls into view, which can slide the step chain under the sticky top bar (axe then cannot
        // tell its background: "incomplete"): read the page from its top once the scroll has stopped.
        await page.EvaluateAsync("() => new Promise(done => { let y = -1; const t = setInterval(() => { if (scrollY === y) { clearInterval(t); scrollTo(0, 0); done(); } y = scrollY; }, 100); })");
        await Check("running run page, step panel open");

        await page.GotoAsync($"{fixture.BaseUrl}/admin");
        await Check("/admin");
        await page.GotoAsync($"{fixture.BaseUrl}/bulk");
        await Check("/bulk");
        await page.GotoAsync($"{fixture.BaseUrl}/bulk/{runs.Bulk}");
        await Assertions.Expect(page.Locator("table.bulk-items-table tbody tr.bulk-item")).ToHaveCountAsync(2);
        await Check("/bulk/{id}, a finished cancel");
        await page.GotoAsync($"{fixture.BaseUrl}/login");
        await Check("/login");
        // The page around an error opened in the browser itself: a path nothing serves, a parameter refused.
        await page.GotoAsync($"{fixture.BaseUrl}/ui/nothing");
        await Check("404 page");
        await page.GotoAsync($"{fixture.BaseUrl}/runs/no-such-run");
        await Check("missing run page");
        await page.GotoAsync($"{fixture.BaseUrl}/ui/workers?zzz=1");
        await Check("400 page");

        Assert.True(findings.Length == 0, $"axe, {theme} at {width} px:\n{findings}");
    }

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task Keyboard_TabThroughPages_SkipLinkFirstAndEveryStopVisiblyFocused(string theme)
    {
        var runs = await SeedAsync(fixture);
        await using var context = await NewContextAsync(fixture, theme, 1440);
        var page = await context.NewPageAsync();
        var unseen = new List<string>();
        foreach (var path in new[] { "/ui/runs", $"/runs/{runs.Failed}", "/admin", "/bulk", $"/bulk/{runs.Bulk}", "/login" })
        {
            await page.GotoAsync(fixture.BaseUrl + path);
            for (var i = 0; i < 40; i++)
            {
                await page.Keyboard.PressAsync("Tab");
                var stop = await page.EvaluateAsync<JsonElement>(
                    """
                    () => {
                      const e = document.activeElement;
                      if (!e || e === document.body) return { what: 'body', skip: false, visible: true, end: true };
                      const s = getComputedStyle(e);
                      const outlined = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
                      return { what: e.tagName.toLowerCase() + (e.name ? '[name=' + e.name + ']' : '') + (e.className ? '.' + String(e.className).trim().split(/\s+/).join('.') : '') + ' ' + (e.textContent || '').trim().slice(0, 30),
                               skip: e.classList.contains('skip-link'), visible: outlined || s.boxShadow !== 'none', end: false };
                    }
                    """);
                if (stop.GetProperty("end").GetBoolean()) break;
                if (i == 0) Assert.True(stop.GetProperty("skip").GetBoolean(), $"{path}: the first Tab lands on {stop.GetProperty("what")}, not the skip link");
                if (!stop.GetProperty("visible").GetBoolean()) unseen.Add($"{path}: {stop.GetProperty("what")}");
            }
        }
        Assert.True(unseen.Count == 0, "focused without a visible outline:\n" + string.Join("\n", unseen.Distinct()));
    }

    /// A region that scrolls must be reachable by keyboard (axe scrollable-region-focusable): the run's and the step's
    /// log frames with more lines than they show, on a phone. Only that rule: a scrolled frame's hidden lines are
    /// colours axe cannot settle, which the full check above reads on frames that do not scroll.
    [Fact]
    public async Task ScrollingLogFrames_Axe_KeyboardCanReachThem()
    {
        var run = (await fixture.Api.CreateRunAsync(new { workflowName = "a11y-scroll", name = "Long log", status = "running", steps = new[] { new { stepId = "render", skillId = "page.render" } } }))
            .GetProperty("id").GetString()!;
        await fixture.Api.PutStepAsync(run, "render", new { status = "failed", error = new { message = "boom" } });
        var logged = await fixture.Api.PostAsJsonAsync($"/api/runs/{run}/logs",
            Enumerable.Range(1, 40).Select(i => new { message = $"rendered page {i} of 40 with the launch template", step = "render" }).ToArray());
        Assert.True(logged.IsSuccessStatusCode);
        await using var context = await NewContextAsync(fixture, "light", 390);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);

        await page.GotoAsync($"{fixture.BaseUrl}/runs/{run}?step=render");
        await Assertions.Expect(page.Locator("#step-panel .step-panel .log-frame .log-line")).ToHaveCountAsync(40);

        var scrolling = await page.EvaluateAsync<int>("() => [...document.querySelectorAll('.log-frame')].filter(f => f.scrollHeight > f.clientHeight).length");
        Assert.Equal(2, scrolling);
        Assert.Equal("", await AxeAsync(page, "long log", rule: "scrollable-region-focusable"));
    }

    internal static async Task<IBrowserContext> NewContextAsync(BrowserFixture fixture, string theme, int width) =>
        await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = width < 600 ? 844 : 900 },
            ColorScheme = theme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
            ReducedMotion = ReducedMotion.Reduce,
        });

    private static string? _axe;

    /// Runs axe on the page as it is now; answers its violations and incompletes as text (empty when none).
    internal static async Task<string> AxeAsync(IPage page, string name, string? rule = null)
    {
        _axe ??= await File.ReadAllTextAsync(Checkers.CheckerFiles.AxePath);
        // From the top: scrolled, the sticky header covers text, and axe cannot tell the colour behind it.
        // A live page swaps parts of itself every few seconds: hold htmx's requests while axe reads the page.
        await page.EvaluateAsync(
            """
            () => new Promise(done => {
              if (!window.__axeHooked) document.addEventListener('htmx:beforeRequest', e => { if (window.__axeHold) e.preventDefault(); });
              window.__axeHooked = true;
              window.__axeHold = true;
              // Until no request is on its way (htmx marks them) and the page stays at the top: a step panel that
              // just opened scrolls itself into view smoothly, and under the sticky header axe cannot read colours.
              const start = performance.now();
              const settle = () => {
                const busy = document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping') || window.scrollY !== 0;
                window.scrollTo({ top: 0, behavior: 'instant' });
                if (busy && performance.now() - start < 4000) setTimeout(settle, 150);
                else requestAnimationFrame(() => requestAnimationFrame(done));
              };
              settle();
            })
            """);
        // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not apply.
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'")) await page.EvaluateAsync(_axe);
        var result = await page.EvaluateAsync<JsonElement>(
            """
            async ([tags, rule]) => {
              const runOnly = rule ? { type: 'rule', values: [rule] } : { type: 'tag', values: tags };
              const r = await axe.run(document, { runOnly, resultTypes: ['violations', 'incomplete'] });
              const pick = items => items.map(i => ({ id: i.id, impact: i.impact, help: i.help,
                nodes: i.nodes.map(n => ({ target: n.target.join(' '), summary: (n.failureSummary || '') +
                  [...n.any, ...n.all, ...n.none].flatMap(c => c.relatedNodes || []).map(r => ' [related: ' + r.target.join(' ') + ']').join('') })) }));
              return { violations: pick(r.violations), incomplete: pick(r.incomplete) };
            }
            """, new object?[] { Tags, rule });
        await page.EvaluateAsync("() => { window.__axeHold = false; }");
        var text = new StringBuilder();
        foreach (var (kind, items) in new[] { ("violation", result.GetProperty("violations")), ("incomplete", result.GetProperty("incomplete")) })
        {
            foreach (var item in items.EnumerateArray())
            {
                var id = item.GetProperty("id").GetString()!;
                text.Append($"  {name}: {kind} {id} ({item.GetProperty("help").GetString()})\n");
                foreach (var node in item.GetProperty("nodes").EnumerateArray().Take(6))
                    text.Append($"    {node.GetProperty("target").GetString()}: {node.GetProperty("summary").GetString()?.Replace('\n', ' ')}\n");
            }
        }
        return text.ToString();
    }

    /// A failed run whose failing step has the run's message, a running run with a finished and a running step.
    internal static async Task<AccessibilityRuns> SeedAsync(BrowserFixture fixture)
    {
        await SeedLock.WaitAsync();
        try
        {
            if (Seeded.TryGetValue(fixture, out var runs)) return runs;
            var now = DateTimeOffset.UtcNow;
            string Iso(TimeSpan ago) => (now - ago).ToString("O");
            // Both runs the screens open are dated now, not by their start (a run without createdAt takes its start):
            // other tests' runs of the last minutes would list before them and push them off the first page.
            var failed = (await fixture.Api.CreateRunAsync(new
            {
                workflowName = "a11y-campaign", name = "Spring sale campaign", status = "running", createdAt = Iso(TimeSpan.Zero), startedAt = Iso(TimeSpan.FromMinutes(3)),
                triggerPayload = new { campaignId = "cmp_42", audience = new { segment = "returning", size = 1200, vip = (string?)null, test = true } },
                context = new { locale = "en-GB" },
                steps = new[] { new { stepId = "game_config", skillId = "config.generate" }, new { stepId = "bgm_track", skillId = "audio.compose" }, new { stepId = "manifest", skillId = "bundle.write" } },
            })).GetProperty("id").GetString()!;
            await fixture.Api.PutStepAsync(failed, "game_config", new { status = "completed", startedAt = Iso(TimeSpan.FromMinutes(3)), completedAt = Iso(TimeSpan.FromSeconds(170)), output = new { rounds = 5, theme = "spring" } });
            await fixture.Api.PutStepAsync(failed, "bgm_track", new
            {
                status = "failed", startedAt = Iso(TimeSpan.FromSeconds(170)), completedAt = Iso(TimeSpan.FromSeconds(100)), attempt = 2,
                input = new { track = "intro", bpm = 120 },
                error = new { message = "Model call timed out after 60s", stack = "TimeoutError: Model call timed out after 60s\n    at compose (audio.py:88)\n    at run (worker.py:12)" },
            });
            await fixture.Api.PatchJsonAsync($"/api/runs/{failed}", new
            {
                status = "failed", completedAt = Iso(TimeSpan.FromSeconds(99)),
                error = new { message = "Model call timed out after 60s", type = "TimeoutError", stack = "TimeoutError: Model call timed out after 60s\n    at compose (audio.py:88)" },
                errors = new[] { new { topic = "user:42", error = "quota exceeded", node = "reflect" } },
                usage = new { provider = "openai", model = "gpt-4o-mini", tokensInput = 12000, tokensOutput = 800 },
            });
            // Every level, a step's lines and fields: the log views are checked on the failed run's page and step panel.
            var logged = await fixture.Api.PostAsJsonAsync($"/api/runs/{failed}/logs", new object[]
            {
                new { message = "resolving model profile", level = "trace" },
                new { message = "config loaded", level = "debug", step = "game_config" },
                new { message = "composing intro at 120 bpm", step = "bgm_track", fields = new { bpm = 120 } },
                new { message = "model slow to answer, retrying", level = "warn", step = "bgm_track" },
                new { message = "Model call timed out after 60s", level = "error", step = "bgm_track" },
            });
            Assert.True(logged.IsSuccessStatusCode);
            var running = (await fixture.Api.CreateRunAsync(new
            {
                workflowName = "a11y-campaign", name = "Autumn launch", status = "running", createdAt = Iso(TimeSpan.Zero), startedAt = Iso(TimeSpan.FromSeconds(30)),
                steps = new[] { new { stepId = "fetch", skillId = "data.fetch" }, new { stepId = "render", skillId = "page.render" }, new { stepId = "publish", skillId = "cdn.publish" } },
            })).GetProperty("id").GetString()!;
            await fixture.Api.PutStepAsync(running, "fetch", new { status = "completed", startedAt = Iso(TimeSpan.FromSeconds(30)), completedAt = Iso(TimeSpan.FromSeconds(20)), output = new { rows = 42 } });
            await fixture.Api.PutStepAsync(running, "render", new { status = "running", startedAt = Iso(TimeSpan.FromSeconds(20)), input = new { template = "launch", pages = new[] { "home", "pricing" } } });
            await fixture.Api.CreateRunAsync(new { workflowName = "a11y-digest", name = "Weekly digest", status = "completed", dryRun = true });
            var completed = (await fixture.Api.CreateRunAsync(new { workflowName = "a11y-digest", name = "Daily digest", status = "completed", triggerPayload = new { channel = "general" } }))
                .GetProperty("id").GetString()!;
            await fixture.Api.PostAsJsonAsync("/api/views", new { name = "Failed campaigns", query = "layer_name=a11y-campaign&status=failed" });
            await fixture.Api.CreateRunAsync(new { workflowName = "a11y-digest", name = "Partial digest", status = "partial", metrics = new { targetsMatched = 10, targetsProcessed = 8, targetsSkipped = 2 } });
            await fixture.Api.CreateRunAsync(new { workflowName = "a11y-digest", name = "Queued digest" });
            await fixture.Api.CreateRunAsync(new { workflowName = "a11y-digest", name = "Cancelled digest", status = "cancelled" });
            // A bulk cancel of two queued runs of three days ago (below the other tests' runs in the unfiltered list),
            // followed to its end: the operations list and the operation's page with its runs.
            var queued = new List<string>();
            for (var i = 0; i < 2; i++)
                queued.Add((await fixture.Api.CreateRunAsync(new { workflowName = "a11y-bulk", name = $"Stale digest {i}", createdAt = Iso(TimeSpan.FromDays(3)) }))
                    .GetProperty("id").GetString()!);
            var started = await fixture.Api.PostAsJsonAsync("/api/bulk", new { action = "cancel", ids = queued, expectedCount = 2 });
            Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
            var bulk = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            for (var i = 0; i < 100 && (await fixture.Api.GetFromJsonAsync<JsonElement>($"/api/bulk/{bulk}")).GetProperty("status").GetString() == "running"; i++)
                await Task.Delay(100);
            runs = new AccessibilityRuns(failed, running, completed, bulk);
            Seeded[fixture] = runs;
            return runs;
        }
        finally { SeedLock.Release(); }
    }
}

internal sealed record AccessibilityRuns(string Failed, string Running, string Completed, long Bulk);
