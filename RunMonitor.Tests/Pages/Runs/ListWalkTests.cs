using System.Net;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Pages.Runs;

/// Previous/next through the list a run was opened from (issue 19): rows carry `?list=&at=`, the modal and the run
/// page link the neighbours in that same list, and a bad `list` or `at` is a 400 naming it. Also the header's
/// preferences as the server renders them from their cookies.
public class ListWalkTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    /// Three runs of one workflow, newest first: c, b, a.
    private async Task<string[]> SeedAsync(string workflow)
    {
        var ids = new List<string>();
        foreach (var (name, minutes) in new[] { ("a", 30), ("b", 20), ("c", 10) })
        {
            var created = factory.Clock.GetUtcNow().AddMinutes(-minutes).ToString("O");
            ids.Add((await _client.CreateRunAsync(new { workflowName = workflow, name, status = "failed", createdAt = created })).GetProperty("id").GetString()!);
        }
        ids.Reverse();
        return [.. ids];
    }

    [Fact]
    public async Task Rows_CarryTheirListAndPlace()
    {
        var ids = await SeedAsync("walk-rows");

        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=walk-rows&limit=2&offset=1");

        var rows = doc.QuerySelectorAll("table.runs-table tbody tr").ToList();
        Assert.Equal([ids[1], ids[2]], rows.Select(r => r.GetAttribute("data-run-id")));
        Assert.Equal($"/ui/runs/{ids[1]}?list=layer_name%3Dwalk-rows%26offset%3D1%26limit%3D2&at=1", rows[0].GetAttribute("data-modal-url"));
        Assert.Equal($"/runs/{ids[2]}?list=layer_name%3Dwalk-rows%26offset%3D1%26limit%3D2&at=2", rows[1].QuerySelector("a.run-name")!.GetAttribute("href"));
    }

    [Fact]
    public async Task RunPage_MiddleRun_LinksPreviousAndNextOfThatListAndBack()
    {
        var ids = await SeedAsync("walk-page");

        var doc = await _client.GetDocumentAsync($"/runs/{ids[1]}?list=layer_name%3Dwalk-page&at=1");

        var walk = doc.QuerySelector("nav.run-walk")!;
        Assert.Equal($"/runs/{ids[0]}?list=layer_name%3Dwalk-page&at=0", walk.QuerySelector("a.walk-prev")!.GetAttribute("href"));
        Assert.Equal($"/runs/{ids[2]}?list=layer_name%3Dwalk-page&at=2", walk.QuerySelector("a.walk-next")!.GetAttribute("href"));
        Assert.Equal("2 of 3", walk.QuerySelector(".walk-position").Text());
        Assert.Equal("/ui/runs?layer_name=walk-page", walk.QuerySelector("a.walk-list")!.GetAttribute("href"));
    }

    [Fact]
    public async Task Modal_FirstAndLast_OnlyTheSideThatExists_LoadsIntoTheModal()
    {
        var ids = await SeedAsync("walk-modal");

        var first = await _client.GetDocumentAsync($"/ui/runs/{ids[0]}?list=layer_name%3Dwalk-modal&at=0");
        var last = await _client.GetDocumentAsync($"/ui/runs/{ids[2]}?list=layer_name%3Dwalk-modal&at=2");

        Assert.Null(first.QuerySelector(".run-walk a.walk-prev"));
        var next = first.QuerySelector(".run-walk a.walk-next")!;
        Assert.Equal($"/ui/runs/{ids[1]}?list=layer_name%3Dwalk-modal&at=1", next.GetAttribute("hx-get"));
        Assert.Equal("#run-detail-modal", next.GetAttribute("hx-target"));
        Assert.Null(last.QuerySelector(".run-walk a.walk-next"));
        Assert.NotNull(last.QuerySelector(".run-walk a.walk-prev"));
    }

    [Fact]
    public async Task RunPage_ListMovedSinceItWasShown_NeighboursOfWhereTheRunIsNow()
    {
        var ids = await SeedAsync("walk-moved");

        // Opened at place 0, but a newer run came since: the run is at 1 now.
        await _client.CreateRunAsync(new { workflowName = "walk-moved", name = "d", status = "failed", createdAt = factory.Clock.GetUtcNow().ToString("O") });
        var doc = await _client.GetDocumentAsync($"/runs/{ids[0]}?list=layer_name%3Dwalk-moved&at=0");

        Assert.Equal($"/runs/{ids[1]}?list=layer_name%3Dwalk-moved&at=2", doc.QuerySelector("a.walk-next")!.GetAttribute("href"));
        Assert.NotNull(doc.QuerySelector("a.walk-prev"));
    }

    [Theory]
    [InlineData("list=status%3Dbogus&at=0", "list")]
    [InlineData("list=&at=-1", "at")]
    [InlineData("list=&at=x", "at")]
    [InlineData("list=", "at")]
    [InlineData("at=3", "list")]
    // A NUL the request's own query could not carry, hidden in the list's (decoded a second time): PostgreSQL refused it with a 500.
    [InlineData("list=q%3D%2500&at=0", "list")]
    [InlineData("list=layer_name%3D%2500&at=0", "list")]
    public async Task BadListOrAt_400NamingIt(string query, string parameter)
    {
        var ids = await SeedAsync("walk-bad-" + parameter + query.Length);

        var page = await _client.GetAsync($"/runs/{ids[0]}?{query}");
        var modal = await _client.GetAsync($"/ui/runs/{ids[0]}?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(page)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        Assert.Equal(HttpStatusCode.BadRequest, modal.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(modal)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Theory]
    [InlineData(null, null, "auto", "relative")]
    [InlineData("dark", "utc", "dark", "utc")]
    [InlineData("light", "local", "light", "local")]
    [InlineData("purple", "<b>", "auto", "relative")]
    public async Task Layout_PreferenceCookies_ThemeAndTimeOnHtmlAndTheSwitchesShowThem(string? theme, string? time, string expectedTheme, string expectedTime)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/ui/runs");
        var cookies = new List<string>();
        if (theme is not null) cookies.Add("runmonitor-theme=" + Uri.EscapeDataString(theme));
        if (time is not null) cookies.Add("runmonitor-time=" + Uri.EscapeDataString(time));
        if (cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", cookies));

        var doc = await Html.ParseAsync(await _client.SendAsync(request));

        Assert.Equal(expectedTheme, doc.DocumentElement.GetAttribute("data-theme"));
        Assert.Equal(expectedTime, doc.DocumentElement.GetAttribute("data-time"));
        Assert.Equal(expectedTheme, doc.QuerySelector("header .prefs select#pref-theme option[selected]")!.GetAttribute("value"));
        Assert.Equal(expectedTime, doc.QuerySelector("header .prefs select#pref-time option[selected]")!.GetAttribute("value"));
        // Without script every time reads relative, with its exact UTC time in the title.
        var created = doc.QuerySelector("table.runs-table tbody tr td.time time");
        if (created is not null) Assert.EndsWith(" UTC", created.GetAttribute("title"));
    }

    [Fact]
    public async Task RunPage_MarksItsTimesForSeconds_ListDoesNot()
    {
        var ids = await SeedAsync("walk-seconds");

        var page = await _client.GetDocumentAsync($"/runs/{ids[0]}");
        var list = await _client.GetDocumentAsync("/ui/runs");

        Assert.NotNull(page.QuerySelector("main#main.time-seconds"));
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", page.QuerySelector(".fact-created time")!.GetAttribute("title"));
        Assert.Null(list.QuerySelector("main#main.time-seconds"));
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class ListWalkTestsOnPostgres(PostgresFactory factory) : ListWalkTests(factory), IClassFixture<PostgresFactory>;
