using System.Globalization;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Runs;

/// The run list's search, date range, sort headers and page size (`/ui/runs/list` and `/ui/runs`).
public class RunListSearchSortTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private Task Run(string workflow, string id, string? name = null, DateTimeOffset? created = null, string status = "completed", int? seconds = 10)
    {
        var at = created ?? Now.AddHours(-1);
        var body = new Dictionary<string, object?>
        {
            ["id"] = id, ["workflowName"] = workflow, ["name"] = name, ["status"] = status, ["createdAt"] = at.ToString("O", CultureInfo.InvariantCulture),
        };
        if (status != "queued") body["startedAt"] = at.ToString("O", CultureInfo.InvariantCulture);
        if (status is not ("queued" or "running") && seconds is { } s) body["completedAt"] = at.AddSeconds(s).ToString("O", CultureInfo.InvariantCulture);
        return _client.CreateRunAsync(body.Where(kv => kv.Value is not null).ToDictionary());
    }

    private async Task<string[]> Ids(string query)
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/list?" + query);
        return doc.QuerySelectorAll("table.runs-table tbody tr").Select(r => r.GetAttribute("data-run-id")!).ToArray();
    }

    [Fact]
    public async Task Q_RunIdPrefix_MatchesOnlyThatPrefix()
    {
        await Run("q-id", "qid-abc-1");
        await Run("q-id", "qid-abd-2");
        await Run("q-id", "x-qid-abc-3");

        Assert.Equal(["qid-abc-1"], await Ids("layer_name=q-id&q=qid-abc"));
        Assert.Equal(["qid-abd-2", "qid-abc-1"], await Ids("layer_name=q-id&q=qid-ab"));
    }

    [Fact]
    public async Task Q_Name_IsCaseInsensitiveSubstring()
    {
        await Run("q-name", "qn-1", "Spring Sale Blast");
        await Run("q-name", "qn-2", "Winter clearance");

        Assert.Equal(["qn-1"], await Ids("layer_name=q-name&q=SALE"));
        Assert.Equal(["qn-1"], await Ids("layer_name=q-name&q=spring%20sale"));
        Assert.Empty(await Ids("layer_name=q-name&q=autumn"));
    }

    [Fact]
    public async Task Q_Name_FoldsCaseBeyondAscii()
    {
        await Run("q-fold", "qf-1", "Été — Soldes d'ÉTÉ");
        await Run("q-fold", "qf-2", "ÜBER Straße");
        await Run("q-fold", "qf-3", "Север запуск");
        await Run("q-fold", "qf-4", "ete plain ascii");
        await Run("q-fold", "qf-5", "Ärger 100% [x]*?");
        await Run("q-fold", "qf-6", @"Übung (a|b)^$\{2}+.");

        Assert.Equal(["qf-1"], await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("été —")));
        Assert.Equal(["qf-1"], await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("soldes D'été")));
        Assert.Equal(["qf-2"], await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("über STRASSE".Replace("SS", "ẞ"))));
        Assert.Equal(["qf-3"], await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("СЕВЕР ЗАП")));
        Assert.Equal(["qf-5"], await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("äRGER 100% [X]*?")));
        // The characters a pattern gives a meaning stay literal.
        Assert.Empty(await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("ärger 1.0")));
        Assert.Empty(await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("ärger*x")));
        Assert.Empty(await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("ärger 100% [y]")));
        Assert.Equal(["qf-6"], await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString(@"üBUNG (A|B)^$\{2}+.")));
        Assert.Empty(await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("übung (a|b)^$x")));
        Assert.Empty(await Ids("layer_name=q-fold&q=" + Uri.EscapeDataString("übung a")));
        // A letter is not its unaccented one.
        Assert.Equal(["qf-4"], await Ids("layer_name=q-fold&q=ETE"));
        var json = await _client.GetJsonAsync("/api/runs?workflow=q-fold&q=" + Uri.EscapeDataString("ÉTÉ"));
        Assert.Equal(1, (int)json["total"]!);
    }

    [Fact]
    public async Task Q_Wildcards_AreLiteral()
    {
        await Run("q-wild", "qw-1", "100% off");
        await Run("q-wild", "qw-2", "plain_name");
        await Run("q-wild", "qw-3", "plainXname");

        Assert.Equal(["qw-1"], await Ids("layer_name=q-wild&q=0%25%20o"));
        Assert.Equal(["qw-2"], await Ids("layer_name=q-wild&q=plain_"));
    }

    [Fact]
    public async Task Q_ShorterThanThree_MatchesRunIdsOnlyAndSaysSo()
    {
        await Run("q-short", "ab-1", "Nightly digest");
        await Run("q-short", "qs-2", "Ab testing");
        await Run("q-short", "qs-3", "Lab results");

        Assert.Equal(["ab-1"], await Ids("layer_name=q-short&q=ab"));
        Assert.Equal(["qs-3"], await Ids("layer_name=q-short&q=ab%20r"));
        var list = await Html.ParseAsync(await _client.GetAsync("/ui/runs/list?layer_name=q-short&q=ab"));
        Assert.Contains("Names are searched from 3 characters", list.QuerySelector(".search-hint")!.TextContent);
        var longer = await Html.ParseAsync(await _client.GetAsync("/ui/runs/list?layer_name=q-short&q=abt"));
        Assert.Null(longer.QuerySelector(".search-hint"));
    }

    [Fact]
    public async Task FromTo_Dates_IncludeWholeDaysUtc()
    {
        await Run("dates", "d-18", created: new DateTimeOffset(2026, 11, 18, 23, 59, 0, TimeSpan.Zero));
        await Run("dates", "d-19", created: new DateTimeOffset(2026, 11, 19, 0, 0, 0, TimeSpan.Zero));
        await Run("dates", "d-20", created: new DateTimeOffset(2026, 11, 20, 23, 59, 59, TimeSpan.Zero));
        await Run("dates", "d-21", created: new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(["d-20", "d-19"], await Ids("layer_name=dates&from=2026-11-19&to=2026-11-20"));
        Assert.Equal(["d-21", "d-20", "d-19"], await Ids("layer_name=dates&from=2026-11-19"));
        Assert.Equal(["d-19", "d-18"], await Ids("layer_name=dates&to=2026-11-19"));
        // A date-time bound is exact: `to` is exclusive, `from` inclusive; an offset is converted to UTC.
        Assert.Equal(["d-19"], await Ids("layer_name=dates&from=2026-11-19T00:00:00Z&to=2026-11-20T12:00:00Z"));
        Assert.Equal(["d-19"], await Ids("layer_name=dates&from=2026-11-19T01:00:00%2B01:00&to=2026-11-19T00:00:01Z"));
    }

    [Theory]
    [InlineData("created", new[] { "s-old", "s-mid", "s-new", "s-queued" })]
    [InlineData("-created", new[] { "s-queued", "s-new", "s-mid", "s-old" })]
    [InlineData("duration", new[] { "s-new", "s-mid", "s-old", "s-queued" })]
    [InlineData("-duration", new[] { "s-old", "s-mid", "s-new", "s-queued" })]
    [InlineData("status", new[] { "s-mid", "s-old", "s-new", "s-queued" })]
    [InlineData("-status", new[] { "s-queued", "s-new", "s-old", "s-mid" })]
    public async Task Sort_EachKeyBothWays_OrdersRows(string sort, string[] expected)
    {
        if ((await Ids("layer_name=sorting")).Length == 0)
        {
            await Run("sorting", "s-old", created: Now.AddHours(-4), status: "failed", seconds: 300);
            await Run("sorting", "s-mid", created: Now.AddHours(-3), status: "completed", seconds: 60);
            await Run("sorting", "s-new", created: Now.AddHours(-2), status: "partial", seconds: 5);
            await Run("sorting", "s-queued", created: Now.AddHours(-1), status: "queued");
        }

        Assert.Equal(expected, await Ids("layer_name=sorting&sort=" + sort));
    }

    [Theory]
    [InlineData("", "created", "descending", "-duration")]
    [InlineData("&sort=duration", "duration", "ascending", "-duration")]
    [InlineData("&sort=-duration", "duration", "descending", "duration")]
    [InlineData("&sort=status", "status", "ascending", "-duration")]
    public async Task SortHeaders_AriaSortAndToggleLinks(string query, string sortedKey, string aria, string durationLinkSort)
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=headers" + query);

        var sorted = doc.QuerySelectorAll("th[aria-sort]");
        Assert.Single(sorted);
        Assert.Equal(aria, sorted[0].GetAttribute("aria-sort"));
        Assert.Contains(sortedKey, sorted[0].QuerySelector("a")!.GetAttribute("href"));
        var durationHeader = doc.QuerySelectorAll("th.sortable a").Single(a => a.Text().StartsWith("Duration"));
        Assert.Equal($"/ui/runs?layer_name=headers&sort={durationLinkSort}", durationHeader.GetAttribute("href"));
        Assert.Equal($"/ui/runs/list?layer_name=headers&sort={durationLinkSort}", durationHeader.GetAttribute("hx-get"));
    }

    [Fact]
    public async Task Sort_KeptForTheFilterForm_AsFormAssociatedInput()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs?sort=duration");

        var inputs = doc.QuerySelectorAll("input[name=sort]");
        Assert.Single(inputs);
        Assert.Equal("duration", inputs[0].GetAttribute("value"));
        Assert.Equal("run-filters", inputs[0].GetAttribute("form"));
        Assert.NotNull(doc.QuerySelector("form#run-filters"));
    }

    [Fact]
    public async Task Limit_PageSize_LimitsRowsAndPagesThrough()
    {
        for (var i = 0; i < 5; i++) await Run("paging", $"p-{i}", created: Now.AddMinutes(-10 + i));

        var first = await _client.GetDocumentAsync("/ui/runs/list?layer_name=paging&limit=2");
        var second = await _client.GetDocumentAsync("/ui/runs/list?layer_name=paging&limit=2&offset=2");

        Assert.Equal(2, first.QuerySelectorAll("table.runs-table tbody tr").Length);
        Assert.Equal("1-2 of 5", first.QuerySelector(".page-info").Text());
        var next = first.QuerySelector("a[rel=next]")!.GetAttribute("href")!;
        Assert.StartsWith("/ui/runs?layer_name=paging&offset=2&limit=2&after=", next);
        Assert.Equal("3-4 of 5", second.QuerySelector(".page-info").Text());
        Assert.Equal(["p-2", "p-1"], await Ids("layer_name=paging&limit=2&offset=2"));
        Assert.Equal(["p-2", "p-1"], await Ids(next[(next.IndexOf('?') + 1)..]));
    }

    [Fact]
    public async Task Offset_PastTheEnd_NoRunsFound_SaysTheListIsNotEmpty_AndLinksTheFirstPage()
    {
        for (var i = 0; i < 3; i++) await Run("past-end", $"pe-{i}", created: Now.AddMinutes(-10 + i));

        var past = await _client.GetDocumentAsync("/ui/runs/list?layer_name=past-end&offset=40");
        var none = await _client.GetDocumentAsync("/ui/runs/list?layer_name=past-end-nothing&offset=40");

        Assert.Equal("No runs found.", past.QuerySelector(".empty-state")!.TextContent);
        var note = past.QuerySelector("p.past-end")!;
        Assert.StartsWith("This page is past the end of the list: 3 runs match.", note.TextContent.Squash());
        Assert.Equal("/ui/runs?layer_name=past-end", note.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("No runs found.", none.QuerySelector(".empty-state")!.TextContent);
        Assert.Null(none.QuerySelector("p.past-end"));
    }

    [Fact]
    public async Task Page_PageSizeChoice_ShowsSelected()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs?limit=50");

        Assert.Equal(["10", "20", "50", "100"], doc.QuerySelectorAll("select[name=limit] option").Select(o => o.GetAttribute("value")!));
        Assert.Equal("50", doc.QuerySelector("select[name=limit] option[selected]")!.GetAttribute("value"));
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class RunListSearchSortTestsOnPostgres(PostgresFactory factory) : RunListSearchSortTests(factory), IClassFixture<PostgresFactory>;
