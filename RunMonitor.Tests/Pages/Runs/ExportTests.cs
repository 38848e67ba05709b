using System.Globalization;
using System.Net;
using System.Text.Json;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Pages.Runs;

namespace RunMonitor.Tests.Pages.Runs;

/// `/ui/runs/export.csv` and `/ui/runs/export.json`: the filtered list, whole, safe to open in a spreadsheet.
public class ExportTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private async Task SeedAsync()
    {
        if (await _client.GetAsync("/api/runs/exp-1") is { StatusCode: HttpStatusCode.OK }) return;
        for (var i = 1; i <= 25; i++)
        {
            var at = Now.AddMinutes(-100 + i).ToString("O", CultureInfo.InvariantCulture);
            await _client.CreateRunAsync(new
            {
                id = $"exp-{i}", workflowName = "export-wf", name = $"Run {i}", status = i % 5 == 0 ? "failed" : "completed",
                createdAt = at, startedAt = at, completedAt = Now.AddMinutes(-100 + i).AddSeconds(i).ToString("O", CultureInfo.InvariantCulture),
            });
        }
        await _client.CreateRunAsync(new
        {
            id = "exp-hostile", workflowName = "export-hostile", name = "=HYPERLINK(\"http://evil\",\"click\"), \"quoted\"", status = "failed",
            error = new { message = "-2+3\nsecond line" },
        });
    }

    private static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') { row.Add(cell.ToString()); cell.Clear(); rows.Add([.. row]); row.Clear(); i++; }
            else cell.Append(c);
        }
        return rows;
    }

    [Theory]
    [InlineData("CSV", "text/csv")]
    [InlineData("Json", "application/json")]
    public async Task Export_FormatInCapitals_TheFormatItNames(string format, string mediaType)
    {
        await SeedAsync();

        var response = await _client.GetAsync($"/ui/runs/export.{format}?layer_name=export-wf");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith("." + format.ToLowerInvariant(), response.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
    }

    [Fact]
    public async Task Csv_FilteredSorted_AllRowsWithoutPaging()
    {
        await SeedAsync();

        var response = await _client.GetAsync("/ui/runs/export.csv?layer_name=export-wf&status=completed&sort=created");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.EndsWith(".csv", response.Content.Headers.ContentDisposition.FileName!.Trim('"'));
        Assert.Equal("20", response.Headers.GetValues("X-Export-Total").Single());
        Assert.Equal("false", response.Headers.GetValues("X-Export-Truncated").Single());
        var rows = ParseCsv(await response.Content.ReadAsStringAsync());
        Assert.Equal(ExportModel.CsvColumns, rows[0]);
        Assert.Equal(21, rows.Count);
        Assert.Equal("exp-1", rows[1][0]);
        Assert.Equal("exp-24", rows[^1][0]);
        Assert.All(rows.Skip(1), r => Assert.Equal("completed", r[4]));
        Assert.Equal("1000", rows[1][Array.IndexOf(ExportModel.CsvColumns, "duration_ms")]);
    }

    [Fact]
    public async Task Csv_FormulaAndQuotes_AreNeutralisedAndQuoted()
    {
        await SeedAsync();

        var text = await _client.GetStringAsync("/ui/runs/export.csv?layer_name=export-hostile");

        var row = ParseCsv(text)[1];
        Assert.Equal("'=HYPERLINK(\"http://evil\",\"click\"), \"quoted\"", row[3]);
        Assert.Equal("'-2+3\nsecond line", row[Array.IndexOf(ExportModel.CsvColumns, "error_message")]);
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"click\"\"), \"\"quoted\"\"\"", text);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("plain", "plain")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData(" padded", "\" padded\"")]
    public void CsvCell_EscapesAsRfc4180WithoutFormulas(string? value, string expected)
    {
        Assert.Equal(expected, Csv.Cell(value));
    }

    [Fact]
    public async Task Json_FilteredItemsWithTotals()
    {
        await SeedAsync();

        var response = await _client.GetAsync("/ui/runs/export.json?layer_name=export-wf&status=failed");

        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(5, body.GetProperty("total").GetInt64());
        Assert.Equal(5, body.GetProperty("exported").GetInt64());
        Assert.False(body.GetProperty("truncated").GetBoolean());
        Assert.Equal(ExportModel.DefaultMaxRows, body.GetProperty("cap").GetInt32());
        Assert.Equal(["exp-25", "exp-20", "exp-15", "exp-10", "exp-5"], body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal("export-wf", body.GetProperty("items")[0].GetProperty("workflowName").GetString());
    }

    [Theory]
    [InlineData("/ui/runs/export.csv?offset=20", "offset")]
    [InlineData("/ui/runs/export.json?limit=5", "limit")]
    [InlineData("/ui/runs/export.csv?after=LWNyZWF0ZWR8", "after")]
    [InlineData("/ui/runs/export.csv?status=bogus", "status")]
    [InlineData("/ui/runs/export.json?page=2", "page")]
    public async Task Export_BadParameter_Answers400Fragment(string url, string parameter)
    {
        var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task Export_SeveralBadParameters_400NamingEachInQueryOrder()
    {
        var response = await _client.GetAsync("/ui/runs/export.csv?status=bogus&limit=500&page=2&offset=20");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Html.ParseAsync(response)).QuerySelectorAll("p.error");
        Assert.Equal(["status", "limit", "page", "offset"], errors.Select(e => e.GetAttribute("data-parameter")));
        Assert.StartsWith("limit is not accepted here: the export has no pages", errors[1].Text());
    }

    [Fact]
    public async Task Export_UnknownParameter_NamesWhatTheExportAccepts_NotItsPaging()
    {
        // Arrange: the list's text listed limit and offset, which the export refuses.
        // Act
        var response = await _client.GetAsync("/ui/runs/export.csv?foo=1");

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Html.ParseAsync(response)).QuerySelector("p.error")!;
        Assert.Equal("foo", error.GetAttribute("data-parameter"));
        Assert.EndsWith("accepted: from, layer_name, q, sort, status, tenant, to, workflow", error.Text());
    }

    [Fact]
    public async Task Export_UnknownFormat_IsNotAnExport()
    {
        var response = await _client.GetAsync("/ui/runs/export.xml");

        // Not an export route: `/ui/runs/{id}` answers for a run called export.xml, which does not exist.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Table_ExportLinks_CarryFilterAndSortButNotPage()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs/list?layer_name=export-wf&status=failed&q=Run&sort=duration&offset=20&limit=10");

        Assert.Equal("/ui/runs/export.csv?layer_name=export-wf&status=failed&q=Run&sort=duration", doc.QuerySelector("a.export-csv")!.GetAttribute("href"));
        Assert.Equal("/ui/runs/export.json?layer_name=export-wf&status=failed&q=Run&sort=duration", doc.QuerySelector("a.export-json")!.GetAttribute("href"));
    }
}

/// The cap, made small: the export stops there and says so.
public sealed class ExportCapTests(ExportCapTests.CapFactory factory) : IClassFixture<ExportCapTests.CapFactory>
{
    public sealed class CapFactory : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:Export:MaxRows"] = "3" };
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Export_OverCap_TruncatesAndSaysSo()
    {
        for (var i = 0; i < 5; i++) await _client.CreateRunAsync(new { workflowName = "capped" });

        var csv = await _client.GetAsync("/ui/runs/export.csv?layer_name=capped");
        var json = JsonDocument.Parse(await _client.GetStringAsync("/ui/runs/export.json?layer_name=capped")).RootElement;

        Assert.Equal("true", csv.Headers.GetValues("X-Export-Truncated").Single());
        Assert.Equal("5", csv.Headers.GetValues("X-Export-Total").Single());
        Assert.Equal("3", csv.Headers.GetValues("X-Export-Cap").Single());
        Assert.Equal(4, (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(json.GetProperty("truncated").GetBoolean());
        Assert.Equal(5, json.GetProperty("total").GetInt64());
        Assert.Equal(3, json.GetProperty("exported").GetInt64());
        Assert.Equal(3, json.GetProperty("items").GetArrayLength());
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class ExportTestsOnPostgres(PostgresFactory factory) : ExportTests(factory), IClassFixture<PostgresFactory>;
