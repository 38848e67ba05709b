using System.Globalization;
using System.Net;
using System.Text.Json;
using AngleSharp.Dom;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Runs;

/// Keyset paging of the run list: Next and Previous carry a cursor (`after` / `before`) that reads the page from the
/// run at its edge, in every sort order, and lands on exactly the rows offsets would while nothing is written.
public class RunListKeysetTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    // 45 runs of one workflow: created times with ties (three runs a minute), every status, durations with ties and
    // runs without one (queued and running), so each sort's every tie-break and the null part of duration are paged.
    private async Task<string> SeedAsync(string workflow)
    {
        string[] statuses = ["completed", "failed", "queued", "running", "partial", "cancelled"];
        for (var i = 0; i < 45; i++)
        {
            var at = Now.AddMinutes(-(i / 3));
            var status = statuses[i % statuses.Length];
            var body = new Dictionary<string, object?>
            {
                ["id"] = $"{workflow}-{i:D2}", ["workflowName"] = workflow, ["status"] = status,
                ["createdAt"] = at.ToString("O", CultureInfo.InvariantCulture),
            };
            if (status != "queued") body["startedAt"] = at.ToString("O", CultureInfo.InvariantCulture);
            if (status is not ("queued" or "running")) body["completedAt"] = at.AddSeconds(i % 4).ToString("O", CultureInfo.InvariantCulture);
            await _client.CreateRunAsync(body);
        }
        return workflow;
    }

    private static string[] Ids(IDocument doc) =>
        doc.QuerySelectorAll("table.runs-table tbody tr").Select(r => r.GetAttribute("data-run-id")!).ToArray();

    private static string? Link(IDocument doc, string rel) => doc.QuerySelector($"nav.pagination a[rel={rel}]")?.GetAttribute("href");

    private static string ListUrl(string pageHref) => "/ui/runs/list" + pageHref[pageHref.IndexOf('?')..];

    [Theory]
    [InlineData("-created")]
    [InlineData("created")]
    [InlineData("status")]
    [InlineData("-status")]
    [InlineData("duration")]
    [InlineData("-duration")]
    public async Task NextAndPrevious_EverySort_ReadTheRowsOffsetsRead(string sort)
    {
        var workflow = await SeedAsync("keyset" + sort.Replace("-", "d"));
        var query = $"layer_name={workflow}&sort={sort}&limit=10";
        var byOffset = new List<string[]>();
        for (var offset = 0; offset < 45; offset += 10)
            byOffset.Add(Ids(await _client.GetDocumentAsync($"/ui/runs/list?{query}&offset={offset}")));

        // Forward through the Next links: each carries `after`, and reads the same page the offset does.
        var pages = new List<IDocument> { await _client.GetDocumentAsync($"/ui/runs/list?{query}") };
        while (Link(pages[^1], "next") is { } next)
        {
            Assert.Contains("after=", next);
            pages.Add(await _client.GetDocumentAsync(ListUrl(next)));
        }
        Assert.Equal(byOffset, pages.Select(Ids));
        Assert.Equal("41-45 of 45", pages[^1].QuerySelector(".page-info").Text());

        // Back through the Previous links: `before` for the middle pages, the plain first page at the top.
        var back = new List<string[]> { Ids(pages[^1]) };
        var at = pages[^1];
        while (Link(at, "prev") is { } prev)
        {
            at = await _client.GetDocumentAsync(ListUrl(prev));
            back.Insert(0, Ids(at));
        }
        Assert.Equal(byOffset, back);
        Assert.Equal("1-10 of 45", at.QuerySelector(".page-info").Text());
    }

    [Fact]
    public async Task Next_AfterNewerRunsArrive_ContinuesFromTheLastRunShown()
    {
        var workflow = await SeedAsync("keyset-moving");
        var first = await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}&limit=10");
        var shown = Ids(first);

        // Five newer runs arrive while the first page is on screen: an offset would show five of its runs again.
        for (var i = 0; i < 5; i++)
            await _client.CreateRunAsync(new { id = $"{workflow}-new-{i}", workflowName = workflow, createdAt = Now.AddMinutes(1).ToString("O", CultureInfo.InvariantCulture) });
        var second = Ids(await _client.GetDocumentAsync(ListUrl(Link(first, "next")!)));
        var byOffset = Ids(await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}&limit=10&offset=10"));

        Assert.Empty(second.Intersect(shown));
        Assert.Equal(Ids(await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}&limit=20&offset=5")).Skip(10), second);
        Assert.NotEqual(byOffset, second);
    }

    [Theory]
    [InlineData("after=not-a-cursor", "after")]
    [InlineData("after=%21%21", "after")]
    [InlineData("before=AAAA", "before")]
    public async Task Cursor_NotOneThisListMade_Is400NamingIt(string cursor, string parameter)
    {
        var response = await _client.GetAsync("/ui/runs/list?" + cursor);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Html.ParseAsync(response)).QuerySelector("p.error").Text();
        Assert.Contains(parameter, error);
        Assert.Contains("link of this list", error);
    }

    [Fact]
    public async Task Cursor_FromAnotherSort_Is400()
    {
        var workflow = await SeedAsync("keyset-othersort");
        var next = Link(await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}&limit=10"), "next")!;
        var token = QueryOf(next)["after"];

        var response = await _client.GetAsync($"/ui/runs/list?layer_name={workflow}&sort=status&after={token}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("in its sort (status)", (await Html.ParseAsync(response)).QuerySelector("p.error").Text());
    }

    [Fact]
    public async Task AfterAndBefore_Together_Are400()
    {
        var workflow = await SeedAsync("keyset-both");
        var next = Link(await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}&limit=10"), "next")!;
        var token = QueryOf(next)["after"];

        var response = await _client.GetAsync($"/api/runs?workflow={workflow}&after={token}&before={token}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("before", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Api_Next_ReadsTheFollowingPage_AndIsNullOnTheLast()
    {
        var workflow = await SeedAsync("keyset-api");
        var ids = new List<string>();
        var offsets = new List<string>();
        string? next = null;
        var pages = 0;
        do
        {
            var url = $"/api/runs?workflow={workflow}&limit=20" + (next is null ? "" : "&after=" + next);
            using var json = JsonDocument.Parse(await _client.GetStringAsync(url));
            ids.AddRange(json.RootElement.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
            offsets.Add(json.RootElement.GetProperty("offset").GetRawText());
            next = json.RootElement.GetProperty("next").GetString();
            pages++;
        } while (next is not null && pages < 10);

        Assert.Equal(3, pages);
        // A token alone names a place, not a number: the page's offset is not known, and not claimed to be 0.
        Assert.Equal(["0", "null", "null"], offsets);
        Assert.Equal(Enumerable.Range(0, 45).Select(i => $"{workflow}-{i:D2}").Order(), ids.Order());
        Assert.Equal(45, ids.Distinct().Count());
    }

    [Fact]
    public async Task SortHeaderAndExport_DropTheCursor()
    {
        var workflow = await SeedAsync("keyset-links");
        var second = await _client.GetDocumentAsync(ListUrl(Link(await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}&limit=10"), "next")!));

        Assert.All(second.QuerySelectorAll("th.sortable a").Select(a => a.GetAttribute("href")!), href => Assert.DoesNotContain("after=", href));
        Assert.Contains("after=", Link(second, "next")!);
    }

    private static Dictionary<string, string> QueryOf(string href) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(href[href.IndexOf('?')..]).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
}

public sealed class RunListKeysetTestsOnPostgres(PostgresFactory factory) : RunListKeysetTests(factory), IClassFixture<PostgresFactory>;

/// A deep offset without a cursor (a typed URL, a script) starts from the nearest place a page of the same list
/// ended, and skips only the rows between: the same rows as the offset while nothing is written; after writes, the
/// rows that offset held when the place was seen (until the place expires).
public class RunListDeepOffsetTests(RunListDeepOffsetTests.Factory factory) : IClassFixture<RunListDeepOffsetTests.Factory>
{
    public class Factory : RunMonitorFactory
    {
        public Factory() : this(TestStore.Sqlite) { }
        private readonly Lazy<Task> _seeded;
        protected Factory(TestStore store) : base(store) => _seeded = new(() => Data.QueryPlanTests.SeedRunsAsync(this, 3_000, TimeSpan.FromDays(3)));
        public Task Seeded => _seeded.Value;

        /// Places every 250 runs on a walk (10,000 in the app), so jumps in 3,000 runs walk.
        public const int PlaceStep = 250;
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:Lists:PlaceStep"] = PlaceStep.ToString(CultureInfo.InvariantCulture) };
    }

    public sealed class PostgresSeeded() : Factory(TestStore.Postgres);

    private async Task<string[]> ExactAsync(RunFilter filter)
    {
        var database = factory.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        var built = await factory.Services.GetRequiredService<RunListQuery>().BuildAsync(connection, filter);
        return (await connection.QueryAsync<RunRow>(built.ItemsSql, built.Parameters)).Select(r => r.Id).ToArray();
    }

    // A list of its own for each test: its places are the ones this test's reads leave, not another's from moments before.
    private RunList NewList() => ActivatorUtilities.CreateInstance<RunList>(factory.Services);

    private static RunFilter At(int offset) =>
        RunFilter.Parse(new Dictionary<string, string?[]> { ["offset"] = [offset.ToString(CultureInfo.InvariantCulture)] }, new Caller(null, Roles.Admin)).Filter!;

    [Fact]
    public async Task DeepOffset_StartsFromTheNearestPlaceAPageWasReadAt()
    {
        await factory.Seeded;
        var list = NewList();
        var offset = RunList.JumpFrom + 500;

        // The page at `offset` is read by its offset, and leaves places at its first run and after its last.
        var page = await ExactAsync(At(offset));
        Assert.Equal(page, (await list.ListAsync(At(offset))).Items.Select(r => r.Id));
        var following = await ExactAsync(At(offset + 20));
        var deeper = await ExactAsync(At(offset + 47));
        Assert.Equal(following, (await list.ListAsync(At(offset + 20))).Items.Select(r => r.Id));
        Assert.Equal(deeper, (await list.ListAsync(At(offset + 47))).Items.Select(r => r.Id));

        // A newer run moves every offset by one; a jump from a place made before it lands on the rows seen then.
        await factory.CreateClient().CreateRunAsync(new { id = "deep-offset-newer", workflowName = "deep-offset" });
        Assert.Equal(page, (await list.ListAsync(At(offset))).Items.Select(r => r.Id));
        Assert.Equal(following, (await list.ListAsync(At(offset + 20))).Items.Select(r => r.Id));
        Assert.Equal(deeper, (await list.ListAsync(At(offset + 47))).Items.Select(r => r.Id));
        Assert.NotEqual(deeper, await ExactAsync(At(offset + 47)));
    }

    [Theory]
    [InlineData("created")]
    [InlineData("status")]
    [InlineData("-status")]
    public async Task DeepOffset_InEachKeysetSort_JumpsToTheRowsTheOffsetHolds(string sort)
    {
        await factory.Seeded;
        var list = NewList();
        RunFilter Sorted(int offset) => At(offset) with { Sort = sort.TrimStart('-') == "status" ? RunSort.Status : RunSort.Created, Descending = sort.StartsWith('-') };

        await list.ListAsync(Sorted(RunList.JumpFrom + 200));

        foreach (var offset in new[] { RunList.JumpFrom + 200, RunList.JumpFrom + 219, RunList.JumpFrom + 220, RunList.JumpFrom + 333 })
            Assert.Equal(await ExactAsync(Sorted(offset)), (await list.ListAsync(Sorted(offset))).Items.Select(r => r.Id));
    }

    [Theory]
    [InlineData("duration")]
    [InlineData("-duration")]
    public async Task DeepOffset_InTheDurationSort_JumpsOnIntoTheRunsWithoutADuration(string sort)
    {
        await factory.Seeded;
        var client = factory.CreateClient();
        // Runs without a duration come after all others in either direction: a second part the jumps run into.
        for (var i = 0; i < 60; i++)
            await client.CreateRunAsync(new { id = $"deep-duration{sort}-queued-{i:D2}", workflowName = "deep-duration", status = "queued" });
        var list = NewList();
        RunFilter Sorted(int offset) => At(offset) with { Sort = RunSort.Duration, Descending = sort.StartsWith('-') };
        long timed;
        await using (var connection = await factory.Services.GetRequiredService<Database>().OpenAsync())
            timed = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE duration_ms IS NOT NULL");
        var start = (int)timed - 45;
        Assert.True(start >= RunList.JumpFrom);

        // A page read by its offset shortly before the last run with a duration leaves places there; jumps from them
        // land on the offset's rows within that part, across the two parts, and inside the second.
        int[] offsets = [start, start + 10, start + 20, start + 40, (int)timed, (int)timed + 7, (int)timed + 33];
        Assert.Equal(await ExactAsync(Sorted(start)), (await list.ListAsync(Sorted(start))).Items.Select(r => r.Id));
        var seen = new List<string[]>();
        foreach (var offset in offsets)
        {
            var exact = await ExactAsync(Sorted(offset));
            Assert.NotEmpty(exact);
            Assert.Equal(exact, (await list.ListAsync(Sorted(offset))).Items.Select(r => r.Id));
            seen.Add(exact);
        }

        // A run early in this order (the shortest, or the longest) moves every offset by one; the jumps from the places land on the rows seen before it.
        var at = factory.Clock.GetUtcNow();
        var first = new
        {
            id = $"deep-duration{sort}-first", workflowName = "deep-duration", status = "completed",
            startedAt = at.AddDays(sort.StartsWith('-') ? -400 : 0).ToString("O", CultureInfo.InvariantCulture),
            completedAt = at.ToString("O", CultureInfo.InvariantCulture),
        };
        await client.CreateRunAsync(first);
        for (var i = 1; i < offsets.Length; i++)
        {
            Assert.Equal(seen[i], (await list.ListAsync(Sorted(offsets[i]))).Items.Select(r => r.Id));
            Assert.NotEqual(seen[i], await ExactAsync(Sorted(offsets[i])));
        }
    }

    [Theory]
    [InlineData("-created")]
    [InlineData("status")]
    [InlineData("-duration")]
    public async Task DeepOffset_WalksThereInSteps_SoEveryShallowerOffsetIsNearAPlace(string sort)
    {
        await factory.Seeded;
        var list = NewList();
        RunFilter Sorted(int offset) => At(offset) with
        {
            Sort = sort.TrimStart('-') switch { "status" => RunSort.Status, "duration" => RunSort.Duration, _ => RunSort.Created },
            Descending = sort.StartsWith('-'),
        };
        // Offsets never asked for, between the walk's places: each as the offset reads it while nothing is written.
        int[] between = [RunList.JumpFrom + 17, 1_777, 2_251, 2_503];
        var exact = new List<string[]>();
        foreach (var offset in between) exact.Add(await ExactAsync(Sorted(offset)));

        // One deep jump walks from the top in steps, leaving a place every PlaceStep runs on the way.
        var deepest = 2_900;
        Assert.Equal(await ExactAsync(Sorted(deepest)), (await list.ListAsync(Sorted(deepest))).Items.Select(r => r.Id));

        // A run first in this order moves every offset by one: a jump to an offset read from a place of the walk lands
        // on the rows that offset held when the list was walked, not on what reading the offset now gives.
        // (-created: the newest; status: the oldest cancelled run; -duration: the longest.)
        var now = factory.Clock.GetUtcNow();
        var created = sort == "-created" ? now.AddHours(12) : now.AddDays(-400);
        await factory.CreateClient().CreateRunAsync(new
        {
            id = $"deep-walk{sort}", workflowName = "deep-walk", status = "cancelled",
            createdAt = created.ToString("O", CultureInfo.InvariantCulture), startedAt = created.ToString("O", CultureInfo.InvariantCulture),
            completedAt = (sort == "-created" ? created.AddSeconds(1) : now).ToString("O", CultureInfo.InvariantCulture),
        });
        for (var i = 0; i < between.Length; i++)
        {
            Assert.Equal(exact[i], (await list.ListAsync(Sorted(between[i]))).Items.Select(r => r.Id));
            Assert.NotEqual(exact[i], await ExactAsync(Sorted(between[i])));
        }
    }

    [Fact]
    public async Task ShallowOffset_IsReadByItsOffset()
    {
        await factory.Seeded;
        var list = NewList();
        await list.ListAsync(At(100));

        await factory.CreateClient().CreateRunAsync(new { id = "shallow-offset-newer", workflowName = "deep-offset" });

        Assert.Equal(await ExactAsync(At(120)), (await list.ListAsync(At(120))).Items.Select(r => r.Id));
    }
}

public sealed class RunListDeepOffsetTestsOnPostgres(RunListDeepOffsetTests.PostgresSeeded factory)
    : RunListDeepOffsetTests(factory), IClassFixture<RunListDeepOffsetTests.PostgresSeeded>;
