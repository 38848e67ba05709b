using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Runs.Logs;

/// The app with a small log cap, so the cap is reached in a test.
public class LogsFactory : RunMonitorFactory
{
    public const int Cap = 300;

    public LogsFactory() : this(TestStore.Sqlite) { }

    protected LogsFactory(TestStore store) : base(store) { }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:Logs:MaxLinesPerRun"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}

public sealed class PostgresLogsFactory() : LogsFactory(TestStore.Postgres);

/// `POST/GET /api/runs/{id}/logs`, `…/steps/{stepId}/logs` and `…/logs.txt` (SPEC "Logs").
public class LogsApiTests(LogsFactory factory) : IClassFixture<LogsFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> RunAsync(string id, string status = "running")
    {
        await _client.CreateRunAsync(new { id, workflowName = "logs", status });
        return id;
    }

    private static StringContent Ndjson(params object[] lines) =>
        new(string.Join("\n", lines.Select(l => System.Text.Json.JsonSerializer.Serialize(l))) + "\n", Encoding.UTF8, "application/x-ndjson");

    private async Task<JsonArray> ItemsAsync(string url) => (await _client.GetJsonAsync(url))["items"]!.AsArray();

    [Fact]
    public async Task Post_JsonArray_Accepted202InOrderWithDefaults()
    {
        var id = await RunAsync("logs-array");

        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "first" },
            new { message = "second", level = "WARNING", step = "fetch", fields = new { url = "https://x", n = 3 } },
            new { message = "third", level = "fatal", ts = "2026-11-21T08:00:00Z" },
        });
        var items = await ItemsAsync($"/api/runs/{id}/logs");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(3, (int)(await response.JsonAsync()).GetProperty("accepted").GetInt32());
        Assert.Equal([1L, 2L, 3L], items.Select(i => (long)i!["seq"]!));
        Assert.Equal(["info", "warn", "error"], items.Select(i => (string)i!["level"]!));
        Assert.Equal("2026-11-21T12:00:00.000Z", (string)items[0]!["ts"]!);
        Assert.Equal("2026-11-21T08:00:00.000Z", (string)items[2]!["ts"]!);
        Assert.Equal("fetch", (string)items[1]!["step"]!);
        Assert.Null(items[0]!["step"]);
        Assert.Equal("https://x", (string)items[1]!["fields"]!["url"]!);
        Assert.Equal(3, (int)items[1]!["fields"]!["n"]!);
    }

    [Fact]
    public async Task Post_NdjsonToStep_EveryLineIsThatStepsAndSeqContinues()
    {
        var id = await RunAsync("logs-ndjson");
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new[] { new { message = "run-level" } });

        var response = await _client.PostAsync($"/api/runs/{id}/steps/render/logs", Ndjson(new { message = "a" }, new { message = "b", step = "render", level = "Debug" }));
        var items = await ItemsAsync($"/api/runs/{id}/logs?step=render");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal([2L, 3L], items.Select(i => (long)i!["seq"]!));
        Assert.All(items, i => Assert.Equal("render", (string)i!["step"]!));
        Assert.Equal("debug", (string)items[1]!["level"]!);
    }

    [Theory]
    [InlineData("""[{"message":"x","level":"loud"}]""", "line 1.level")]
    [InlineData("""[{"message":"x"},{"level":"info"}]""", "line 2.message")]
    [InlineData("""[{"message":null}]""", "line 1.message")]
    [InlineData("""[{"message":"x","ts":"yesterday"}]""", "line 1.ts")]
    [InlineData("""[{"message":"x","colour":"red"}]""", "line 1.colour")]
    [InlineData("""[{"message":"x","fields":[1,2]}]""", "line 1.fields")]
    [InlineData("""[{"message":"x","step":"has space"}]""", "line 1.step")]
    [InlineData("""["just text"]""", "line 1")]
    [InlineData("""[]""", "body")]
    [InlineData("""{"message":"ok"}""" + "\n" + """{"message":""", "line 2")]
    public async Task Post_BadLine_400NamesLineAndField(string body, string field)
    {
        var id = await RunAsync("logs-bad-" + Math.Abs(field.GetHashCode() % 100000) + body.Length);

        var response = await _client.PostAsync($"/api/runs/{id}/logs", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.JsonAsync();
        var lines = await ItemsAsync($"/api/runs/{id}/logs");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Empty(lines);
    }

    /// The 64 KB of a line's fields are bytes as stored: 40,000 é's are 80,000 bytes of UTF-8 in 40,000 characters,
    /// and passed as a JSON array and as NDJSON (the fast path) alike.
    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-ndjson")]
    public async Task Post_FieldsOver64KBytesInFewerCharacters_400(string contentType)
    {
        var id = await RunAsync("logs-wide-fields-" + contentType.Length);
        var line = "{\"message\":\"x\",\"fields\":{\"t\":\"" + new string('é', 40_000) + "\"}}";
        var body = contentType == "application/json" ? "[" + line + "]" : line + "\n";

        var response = await _client.PostAsync($"/api/runs/{id}/logs", new StringContent(body, new System.Net.Http.Headers.MediaTypeHeaderValue(contentType) { CharSet = "utf-8" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("65,536 bytes", (await response.JsonAsync()).GetProperty("errors").GetProperty("line 1.fields")[0].GetString());
        Assert.Empty(await ItemsAsync($"/api/runs/{id}/logs"));
    }

    /// A byte order mark before the first line (Windows tools write one) is read past, as POST /api/runs reads past it.
    [Theory]
    [InlineData("application/json", "[{\"message\":\"bom one\"},{\"message\":\"bom two\"}]")]
    [InlineData("application/x-ndjson", "{\"message\":\"bom one\"}\n{\"message\":\"bom two\"}\n")]
    public async Task Post_BodyWithByteOrderMark_Accepted(string contentType, string body)
    {
        var id = await RunAsync("logs-bom-" + contentType.Length);
        var bytes = new ByteArrayContent([.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(body)]);
        bytes.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);

        var response = await _client.PostAsync($"/api/runs/{id}/logs", bytes);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(["bom one", "bom two"], (await ItemsAsync($"/api/runs/{id}/logs")).Select(l => (string?)l!["message"]));
    }

    [Fact]
    public async Task Post_StepLineNamingAnotherStep_400()
    {
        var id = await RunAsync("logs-other-step");

        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/steps/a/logs", new[] { new { message = "x", step = "b" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("line 1.step", out _));
    }

    [Fact]
    public async Task Post_TooManyLines_413()
    {
        var id = await RunAsync("logs-too-many");
        var body = string.Concat(Enumerable.Range(0, 10_001).Select(i => "{\"message\":\"m\"}\n"));

        var response = await _client.PostAsync($"/api/runs/{id}/logs", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("10,000", (await response.JsonAsync()).GetProperty("detail").GetString());
        Assert.Empty(await ItemsAsync($"/api/runs/{id}/logs"));
    }

    [Fact]
    public async Task Post_BodyOver10MB_413()
    {
        var id = await RunAsync("logs-too-big");
        var big = new string('x', 1024 * 1024);
        var body = string.Concat(Enumerable.Range(0, 11).Select(_ => "{\"message\":\"" + big + "\"}\n"));

        var response = await _client.PostAsync($"/api/runs/{id}/logs", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(await ItemsAsync($"/api/runs/{id}/logs"));
    }

    [Fact]
    public async Task Post_MissingRun_404()
    {
        var response = await _client.PostAsJsonAsync("/api/runs/no-such-run/logs", new[] { new { message = "x" } });
        var step = await _client.PostAsJsonAsync("/api/runs/no-such-run/steps/a/logs", new[] { new { message = "x" } });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, step.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/no-such-run/logs")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/no-such-run/logs.txt")).StatusCode);
    }

    [Fact]
    public async Task Post_FinishedRun_Accepted()
    {
        var id = await RunAsync("logs-finished", "completed");

        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new[] { new { message = "flushed late" } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("flushed late", (string)(await ItemsAsync($"/api/runs/{id}/logs"))[0]!["message"]!);
    }

    [Fact]
    public async Task Post_MessageOver16KB_IsCutAndMarked()
    {
        var id = await RunAsync("logs-cut");
        // Two-byte characters across the cut: it never splits one.
        var message = new string('é', 10_000);

        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new[] { new { message }, new { message = "short" } });
        var items = await ItemsAsync($"/api/runs/{id}/logs");
        var text = await _client.GetStringAsync($"/api/runs/{id}/logs.txt");

        Assert.Equal(8192, ((string)items[0]!["message"]!).Length);
        Assert.True((bool)items[0]!["cut"]!);
        Assert.False((bool)items[1]!["cut"]!);
        Assert.Contains("[cut: 20,000 bytes]", text);
    }

    [Fact]
    public async Task Text_AfterAndBefore_BoundTheDownload_ALimitIsRefused()
    {
        var id = await RunAsync("logs-text-bounds");
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", Enumerable.Range(1, 5).Select(i => new { message = $"line {i}" }).ToArray());

        var after = await _client.GetStringAsync($"/api/runs/{id}/logs.txt?after=3");
        var before = await _client.GetStringAsync($"/api/runs/{id}/logs.txt?before=3");
        var limit = await _client.GetAsync($"/api/runs/{id}/logs.txt?limit=2");

        string[] Messages(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.IndexOf("line ", StringComparison.Ordinal))..]).ToArray();
        Assert.Equal(["line 4", "line 5"], Messages(after));
        Assert.Equal(["line 1", "line 2"], Messages(before));
        Assert.Equal(HttpStatusCode.BadRequest, limit.StatusCode);
        Assert.True((await limit.JsonAsync()).GetProperty("errors").TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task Post_PastTheCap_CountsDropped()
    {
        var id = await RunAsync("logs-cap");
        var first = Enumerable.Range(1, LogsFactory.Cap - 2).Select(i => new { message = $"line {i}" }).ToArray();

        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", first);
        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/logs", Enumerable.Range(1, 5).Select(i => new { message = $"late {i}" }).ToArray());
        var page = await _client.GetJsonAsync($"/api/runs/{id}/logs?after={LogsFactory.Cap - 5}");
        var fragment = await _client.GetDocumentAsync($"/ui/runs/{id}/logs");

        var accepted = await response.JsonAsync();
        Assert.Equal(2, accepted.GetProperty("accepted").GetInt32());
        Assert.Equal(3, accepted.GetProperty("dropped").GetInt32());
        Assert.Equal(3, (long)page["dropped"]!);
        Assert.Equal(["line 296", "line 297", "line 298", "late 1", "late 2"], page["items"]!.AsArray().Select(i => (string)i!["message"]!));
        Assert.Contains("3 later lines were dropped", fragment.QuerySelector(".log-view .log-dropped").Text());
    }

    [Fact]
    public async Task Get_Filters_StepLevelTextCursorLimit()
    {
        var id = await RunAsync("logs-filters");
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "Fetching page", level = "debug", step = "fetch" },
            new { message = "100% done_now", level = "info", step = "fetch" },
            new { message = "slow answer", level = "warn", step = "fetch" },
            new { message = "FETCH failed", level = "error", step = "render" },
            new { message = "trace noise", level = "trace" },
        });

        Assert.Equal([3L, 4L], (await ItemsAsync($"/api/runs/{id}/logs?level=warn")).Select(i => (long)i!["seq"]!));
        Assert.Equal([4L], (await ItemsAsync($"/api/runs/{id}/logs?level=fatal")).Select(i => (long)i!["seq"]!));
        Assert.Equal([1L, 2L, 3L], (await ItemsAsync($"/api/runs/{id}/logs?step=fetch")).Select(i => (long)i!["seq"]!));
        Assert.Equal([1L, 4L], (await ItemsAsync($"/api/runs/{id}/logs?q=fetch")).Select(i => (long)i!["seq"]!));
        // % and _ are text to find, not patterns.
        Assert.Equal([2L], (await ItemsAsync($"/api/runs/{id}/logs?q={Uri.EscapeDataString("0% done_")}")).Select(i => (long)i!["seq"]!));
        Assert.Empty(await ItemsAsync($"/api/runs/{id}/logs?q={Uri.EscapeDataString("_x%")}"));
        var first = await _client.GetJsonAsync($"/api/runs/{id}/logs?limit=2");
        Assert.Equal(2, (long)first["next"]!);
        var second = await _client.GetJsonAsync($"/api/runs/{id}/logs?limit=2&after=2");
        Assert.Equal([3L, 4L], second["items"]!.AsArray().Select(i => (long)i!["seq"]!));
        var last = await _client.GetJsonAsync($"/api/runs/{id}/logs?limit=2&after=4");
        Assert.Null(last["next"]);
        Assert.Equal([5L], last["items"]!.AsArray().Select(i => (long)i!["seq"]!));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("after=-1", "after")]
    [InlineData("after=x", "after")]
    [InlineData("level=loud", "level")]
    [InlineData("step=a%20b", "step")]
    [InlineData("colour=red", "colour")]
    [InlineData("after=1&before=3", "before")]
    public async Task Get_BadParameter_400NamesIt(string query, string parameter)
    {
        var id = await RunAsync("logs-bad-param-" + parameter + query.Length);

        var api = await _client.GetAsync($"/api/runs/{id}/logs?{query}");
        var text = await _client.GetAsync($"/api/runs/{id}/logs.txt?{query}");
        var fragment = await _client.GetAsync($"/ui/runs/{id}/logs?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.True((await api.JsonAsync()).GetProperty("errors").TryGetProperty(parameter, out _));
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, fragment.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(fragment)).QuerySelector("p.error")?.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task Get_SeveralBadParameters_400NamesEachInQueryOrder()
    {
        var id = await RunAsync("logs-bad-params");
        const string query = "level=loud&colour=red&limit=0&after=x&after=1&step=a%20b";
        string[] parameters = ["level", "colour", "limit", "after", "step"];

        var api = await _client.GetAsync($"/api/runs/{id}/logs?{query}");
        var text = await _client.GetAsync($"/api/runs/{id}/logs.txt?{query}");
        var fragment = await _client.GetAsync($"/ui/runs/{id}/logs?{query}");

        Assert.Equal(parameters, (await api.JsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(parameters, (await text.JsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(HttpStatusCode.BadRequest, fragment.StatusCode);
        Assert.Equal(parameters, (await Html.ParseAsync(fragment)).QuerySelectorAll("p.error").Select(e => e.GetAttribute("data-parameter")));
    }

    [Fact]
    public async Task Text_IsAnAttachmentOfEveryMatchingLine()
    {
        var id = await RunAsync("logs-text");
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "starting", ts = "2026-11-21T08:00:00Z" },
            new { message = "bad thing", level = "error", step = "render", ts = "2026-11-21T08:00:01.5Z" },
        });

        var response = await _client.GetAsync($"/api/runs/{id}/logs.txt");
        var errorsOnly = await _client.GetStringAsync($"/api/runs/{id}/logs.txt?level=error");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("2026-11-21T08:00:00.000Z info starting\n2026-11-21T08:00:01.500Z error [render] bad thing\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("2026-11-21T08:00:01.500Z error [render] bad thing\n", errorsOnly);
    }

    /// A message's own line breaks cannot forge entries (each later line is indented under its entry), and its other
    /// control characters, a terminal's escape sequences among them, are written as `\xHH`.
    [Fact]
    public async Task Text_MessageWithLineBreaksAndEscapes_StaysOneEntry()
    {
        var id = await RunAsync("logs-text-forged");
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "Traceback:\n  at x\r\n2026-11-21T09:00:00.000Z info all is well\u001b[31m red\u0007", ts = "2026-11-21T08:00:00Z" },
        });

        var text = await _client.GetStringAsync($"/api/runs/{id}/logs.txt");

        Assert.Equal("2026-11-21T08:00:00.000Z info Traceback:\n      at x\n    2026-11-21T09:00:00.000Z info all is well\\x1B[31m red\\x07\n", text);
        Assert.Single(text.Split('\n'), l => l.StartsWith("2026", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Text_ManyLines_AllStreamed()
    {
        var id = await RunAsync("logs-text-many");
        await _client.PostAsync($"/api/runs/{id}/logs", Ndjson(Enumerable.Range(1, 280).Select(i => (object)new { message = $"n{i}" }).ToArray()));

        var text = await _client.GetStringAsync($"/api/runs/{id}/logs.txt");

        Assert.Equal(280, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.EndsWith(" info n280\n", text);
    }

    [Fact]
    public async Task Post_LeasedRun_RenewsLease()
    {
        await _client.CreateRunAsync(new { id = "logs-lease", workflowName = "logs-lease-wf" });
        var claim = await _client.PostAsJsonAsync("/api/queue/claim", new { worker = "w1", workflows = new[] { "logs-lease-wf" }, leaseSeconds = 60 });
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        var before = (string)(await _client.GetJsonAsync("/api/runs/logs-lease"))["leaseExpiresAt"]!;

        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        await _client.PostAsJsonAsync("/api/runs/logs-lease/logs", new[] { new { message = "still working" } });
        var after = (string)(await _client.GetJsonAsync("/api/runs/logs-lease"))["leaseExpiresAt"]!;
        factory.Clock.Advance(TimeSpan.FromSeconds(-30));

        Assert.Equal(DateTimeOffset.Parse(before, System.Globalization.CultureInfo.InvariantCulture).AddSeconds(30),
            DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Fragment_LinesCarryTimeLevelStepMessage_HostileTextEncoded()
    {
        var id = await RunAsync("logs-fragment");
        const string hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
        // Raw JSON, so the fields keep their markup as written (a serializer would escape < as \u003C).
        const string body = """[{"message":"ok","step":"fetch"},{"message":"<script>alert(1)</script><img src=x onerror=alert(2)>","level":"error","step":"render","fields":{"<b>k</b>":"</code><script>x</script>"}}]""";
        await _client.PostAsync($"/api/runs/{id}/logs", new StringContent(body, Encoding.UTF8, "application/json"));

        var doc = await _client.GetDocumentAsync($"/ui/runs/{id}/logs");
        var lines = doc.QuerySelectorAll(".log-view .log-line");
        var error = doc.QuerySelector(".log-view .log-line.log-error")!;

        Assert.Null(doc.QuerySelector("html > head > title"));
        Assert.Equal(2, lines.Length);
        Assert.Equal("log-line log-info", lines[0].ClassName);
        Assert.Equal("2026-11-21T12:00:00.000Z", error.QuerySelector("time")!.GetAttribute("datetime"));
        Assert.Equal("error", error.QuerySelector(".log-level").Text());
        Assert.Equal("render", error.QuerySelector(".log-step").Text());
        Assert.Equal(hostile, error.QuerySelector(".log-message")!.TextContent);
        Assert.Contains("</code><script>x</script>", error.QuerySelector(".log-fields")!.TextContent);
        Assert.Empty(doc.QuerySelectorAll("script, img"));
    }

    /// A line's time is a clock time to the millisecond, in UTC (the script shows it in the browser's zone when the
    /// header's switch says local), with the whole instant in `datetime` and in the title.
    [Fact]
    public async Task Fragment_LineTime_UtcClockToTheMillisecond_WholeInstantInDatetimeAndTitle()
    {
        var id = await RunAsync("logs-time");
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[] { new { message = "tick", ts = "2026-03-01T23:59:58.007Z" } });

        var time = (await _client.GetDocumentAsync($"/ui/runs/{id}/logs")).QuerySelector(".log-view .log-line time")!;

        Assert.Equal("23:59:58.007", time.TextContent);
        Assert.Equal("2026-03-01T23:59:58.007Z", time.GetAttribute("datetime"));
        Assert.Equal("2026-03-01T23:59:58.007Z", time.GetAttribute("title"));
        Assert.Contains("clock", time.ClassList);
    }

    [Fact]
    public async Task RunPage_LogPanels_SayTheirTimesAreUtc()
    {
        var id = await RunAsync("logs-zone");
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/render", new { status = "failed", error = new { message = "boom" } });
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[] { new { message = "rendering", step = "render" } });

        var doc = await _client.GetDocumentAsync($"/runs/{id}");

        Assert.Equal(["Times in UTC", "Times in UTC"], doc.QuerySelectorAll("[data-log-panel] .log-head .log-zone").Select(z => z.Text()));
    }

    [Fact]
    public async Task Fragment_HugeLog_OpensOnLastLinesWithLoadEarlier()
    {
        var id = await RunAsync("logs-tail");
        await _client.PostAsync($"/api/runs/{id}/logs", Ndjson(Enumerable.Range(1, 250).Select(i => (object)new { message = $"n{i}" }).ToArray()));

        var tail = await _client.GetDocumentAsync($"/ui/runs/{id}/logs");
        var earlierHref = tail.QuerySelector(".log-view a.log-earlier")!.GetAttribute("href")!;
        var earlier = await _client.GetDocumentAsync(earlierHref);
        var after = await _client.GetDocumentAsync($"/ui/runs/{id}/logs?after=248");

        Assert.Equal(200, tail.QuerySelectorAll(".log-line").Length);
        Assert.Equal("51", tail.QuerySelector(".log-line")!.GetAttribute("data-seq"));
        Assert.Equal("250", tail.QuerySelectorAll(".log-line").Last().GetAttribute("data-seq"));
        Assert.Equal("true", tail.QuerySelector(".log-view")!.GetAttribute("data-follow"));
        Assert.Equal(50, earlier.QuerySelectorAll(".log-line").Length);
        Assert.Equal("50", earlier.QuerySelectorAll(".log-line").Last().GetAttribute("data-seq"));
        Assert.Null(earlier.QuerySelector(".log-earlier"));
        Assert.Equal(["n249", "n250"], after.QuerySelectorAll(".log-message").Select(m => m.TextContent));
    }

    [Fact]
    public async Task Fragment_MissingRun_404()
    {
        var response = await _client.GetAsync("/ui/runs/no-such-run/logs");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Run not found", (await Html.ParseAsync(response)).QuerySelector("p").Text());
    }

    [Fact]
    public async Task RunPage_ShowsLogPanelWithControls_StepPanelItsStepsLines()
    {
        var id = await RunAsync("logs-page");
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/render", new { status = "failed", error = new { message = "boom" } });
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "begin" },
            new { message = "rendering", step = "render" },
            new { message = "template missing", level = "error", step = "render" },
        });

        var doc = await _client.GetDocumentAsync($"/runs/{id}");
        var runPanel = doc.QuerySelector("#run-logs")!;
        var stepPanel = doc.QuerySelector(".step-panel [data-log-panel]")!;

        Assert.Equal(3, runPanel.QuerySelectorAll(".log-line").Length);
        Assert.Equal(["trace", "debug", "info", "warn", "error"], runPanel.QuerySelectorAll(".log-chips input[name=level]").Select(i => i.GetAttribute("value")));
        Assert.NotNull(runPanel.QuerySelector("input[type=search][name=q]"));
        Assert.Equal($"/api/runs/{id}/logs.txt", runPanel.QuerySelector("a.log-download")!.GetAttribute("href"));
        Assert.Equal("3", runPanel.QuerySelector("a.log-jump-error")!.GetAttribute("data-log-jump"));
        Assert.Equal(["rendering", "template missing"], stepPanel.QuerySelectorAll(".log-message").Select(m => m.TextContent));
        Assert.Equal($"/api/runs/{id}/logs.txt?step=render", stepPanel.QuerySelector("a.log-download")!.GetAttribute("href"));
    }

    // A tail read (no cursor) says how many lines match its filter and which of them is the first error, so a panel
    // can count a filter's lines and jump to its first error; the run's own totals ride along on every read.
    [Fact]
    public async Task Fragment_TailRead_CountsTheFiltersLinesAndItsFirstError()
    {
        var id = await RunAsync("logs-matching");
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "begin" },
            new { message = "fetch failed", level = "error", step = "fetch" },
            new { message = "slow render", level = "warn", step = "render" },
            new { message = "render failed", level = "error", step = "render" },
            new { message = "done" },
        });

        var all = (await _client.GetDocumentAsync($"/ui/runs/{id}/logs")).QuerySelector(".log-view")!;
        var render = (await _client.GetDocumentAsync($"/ui/runs/{id}/logs?step=render")).QuerySelector(".log-view")!;
        var text = (await _client.GetDocumentAsync($"/ui/runs/{id}/logs?q=RENDER")).QuerySelector(".log-view")!;
        var warn = (await _client.GetDocumentAsync($"/ui/runs/{id}/logs?level=warn")).QuerySelector(".log-view")!;
        var none = (await _client.GetDocumentAsync($"/ui/runs/{id}/logs?q=begin")).QuerySelector(".log-view")!;
        var later = (await _client.GetDocumentAsync($"/ui/runs/{id}/logs?q=render&after=3")).QuerySelector(".log-view")!;

        // lines of the run / lines matching / first error matching; "-": not known (Razor writes a data- attribute empty).
        static string Read(AngleSharp.Dom.IElement v) =>
            string.Join(" / ", new[] { "data-lines", "data-matching", "data-first-error" }.Select(a => v.GetAttribute(a) is { Length: > 0 } value ? value : "-"));
        Assert.Equal("5 / 5 / 2", Read(all));
        Assert.Equal("5 / 2 / 4", Read(render));
        Assert.Equal("5 / 2 / 4", Read(text));
        Assert.Equal("5 / 3 / 2", Read(warn));
        Assert.Equal("5 / 1 / -", Read(none));
        // A cursor's page counts nothing (a follow reads on from what the panel counted).
        Assert.Equal("5 / - / -", Read(later));
    }

    [Fact]
    public async Task RunPage_FilteredPanel_SaysHowManyLinesMatch_StepPanelCountsAndJumpsWithinItsStep()
    {
        var id = await RunAsync("logs-count-page");
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/render", new { status = "failed", error = new { message = "boom" } });
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "fetch failed", level = "error", step = "fetch" },
            new { message = "slow answer", level = "warn" },
            new { message = "rendering", step = "render" },
            new { message = "template missing", level = "error", step = "render" },
        });

        var page = await _client.GetDocumentAsync($"/runs/{id}");
        var filtered = await _client.GetDocumentAsync($"/runs/{id}?level=warn");
        var stepFiltered = await _client.GetDocumentAsync($"/runs/{id}?step=render&q=template");

        Assert.Equal("4 lines", page.QuerySelector("#run-logs .log-count")!.Text().Trim());
        Assert.Equal("3 of 4 lines match", filtered.QuerySelector("#run-logs .log-count")!.Text().Trim());
        var stepPanel = page.QuerySelector(".step-panel [data-log-panel]")!;
        Assert.Equal("2 lines", stepPanel.QuerySelector(".log-count")!.Text().Trim());
        // The step's own first error, not the run's (line 1 is another step's).
        Assert.Equal("4", stepPanel.QuerySelector("a.log-jump-error")!.GetAttribute("data-log-jump"));
        Assert.Equal("1 line matches", stepFiltered.QuerySelector(".step-panel .log-count")!.Text().Trim());
    }

    [Theory]
    [InlineData("completed", "This run wrote no log lines.", false)]
    [InlineData("failed", "This run wrote no log lines.", false)]
    [InlineData("running", "No log lines yet.", true)]
    [InlineData("queued", "No log lines yet.", true)]
    public async Task RunPage_NoLines_FinishedRunSaysItWroteNoneWithoutControls(string status, string text, bool controls)
    {
        var id = await RunAsync("logs-silent-" + status, status);

        var panel = (await _client.GetDocumentAsync($"/runs/{id}")).QuerySelector("#run-logs")!;
        var fragment = await _client.GetDocumentAsync($"/ui/runs/{id}/logs");

        Assert.Equal(text, panel.QuerySelector(".log-empty")!.Text().Trim());
        Assert.Equal(text, fragment.QuerySelector(".log-view .log-empty")!.Text().Trim());
        Assert.Equal(controls, panel.QuerySelector("form.log-filter") is not null);
        Assert.Equal(controls, panel.QuerySelector(".log-download") is not null);
        Assert.Equal(controls, panel.QuerySelector("[data-log-wrap]") is not null);
    }

    [Fact]
    public async Task RunPage_FinishedStepWithoutLines_SaysItWroteNone()
    {
        var id = await RunAsync("logs-silent-step", "running");
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/render", new { status = "failed", error = new { message = "boom" } });
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new[] { new { message = "another step's line", step = "fetch" } });
        await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "failed" });

        var stepPanel = (await _client.GetDocumentAsync($"/runs/{id}")).QuerySelector(".step-panel [data-log-panel]")!;

        Assert.Equal("This step wrote no log lines.", stepPanel.QuerySelector(".log-empty")!.Text().Trim());
        Assert.Null(stepPanel.QuerySelector("form.log-filter"));
    }

    [Fact]
    public async Task RunPage_LogFrames_AreKeyboardScrollableRegionsEachNamedForItsPanel()
    {
        var id = await RunAsync("logs-frames");
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/render", new { status = "failed", error = new { message = "boom" } });
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[] { new { message = "begin" }, new { message = "rendering", step = "render" } });

        var doc = await _client.GetDocumentAsync($"/runs/{id}");

        // A frame scrolls (a phone wraps its lines taller than its height): the keyboard must reach it (axe
        // scrollable-region-focusable), and two on one page need two names.
        var frames = doc.QuerySelectorAll("[data-log-panel] .log-frame");
        Assert.Equal(2, frames.Length);
        Assert.All(frames, f => Assert.Equal(("0", "region"), (f.GetAttribute("tabindex"), f.GetAttribute("role"))));
        Assert.Equal(["Log lines of step render", "Log lines"], frames.Select(f => f.GetAttribute("aria-label")));
    }

    // Without JavaScript a panel's filter form opens the run page (with its layout) at that panel, filtered.
    [Fact]
    public async Task RunPage_LogFilterFormWithoutScript_OpensFilteredRunPage()
    {
        var id = await RunAsync("logs-nojs");
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/render", new { status = "failed", error = new { message = "boom" } });
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new object[]
        {
            new { message = "begin" },
            new { message = "slow answer", level = "warn" },
            new { message = "slow render", level = "warn", step = "render" },
            new { message = "template missing", level = "error", step = "render" },
        });
        var page = await _client.GetDocumentAsync($"/runs/{id}");
        var runForm = page.QuerySelector("#run-logs form.log-filter")!;
        var stepForm = page.QuerySelector(".step-panel [data-log-panel] form.log-filter")!;

        // The form as a browser sends it: its action's path and its fields, the chip and the search filled in.
        var action = runForm.GetAttribute("action")!;
        var filtered = await _client.GetAsync(action.Split('#')[0] + "?level=warn&q=SLOW");
        var doc = await Html.ParseAsync(filtered);
        var runPanel = doc.QuerySelector("#run-logs")!;
        var stepAction = stepForm.GetAttribute("action")!;
        var stepDoc = await _client.GetDocumentAsync(stepAction.Split('#')[0] + "?step=render&level=error");

        Assert.Equal("get", runForm.GetAttribute("method"));
        Assert.Equal($"/runs/{id}#run-logs", action);
        Assert.Equal($"/ui/runs/{id}/logs", runForm.GetAttribute("data-log-filter"));
        Assert.Equal("render", stepForm.QuerySelector("input[type=hidden][name=step]")!.GetAttribute("value"));
        Assert.EndsWith("#" + stepForm.Closest("[data-log-panel]")!.Id, stepAction);
        Assert.Equal(HttpStatusCode.OK, filtered.StatusCode);
        Assert.NotNull(doc.QuerySelector("header.topbar"));
        Assert.Equal(["slow answer", "slow render"], runPanel.QuerySelectorAll(".log-message").Select(m => m.TextContent));
        Assert.Equal("warn", runPanel.QuerySelector(".log-chips input:checked")!.GetAttribute("value"));
        Assert.Equal("SLOW", runPanel.QuerySelector("input[name=q]")!.GetAttribute("value"));
        Assert.Equal($"/api/runs/{id}/logs.txt?level=warn", runPanel.QuerySelector("a.log-download")!.GetAttribute("href"));
        // The step's filter narrows its own panel; the run's panel shows every line.
        Assert.Equal(["template missing"], stepDoc.QuerySelectorAll(".step-panel .log-message").Select(m => m.TextContent));
        Assert.Equal(4, stepDoc.QuerySelectorAll("#run-logs .log-line").Length);
    }

    [Theory]
    [InlineData("level=loud", "level")]
    [InlineData("level=warn&level=error", "level")]
    public async Task RunPage_BadLogFilter_400NamesIt(string query, string parameter)
    {
        var id = await RunAsync("logs-nojs-bad-" + Guid.NewGuid().ToString("N")[..8]);
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new[] { new { message = "kept" } });

        var response = await _client.GetAsync($"/runs/{id}?{query}");
        var doc = await Html.ParseAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, doc.QuerySelector("p.error[role=alert]")!.GetAttribute("data-parameter"));
        Assert.Single(doc.QuerySelectorAll("#run-logs .log-line"));
    }

    [Fact]
    public async Task Retention_DeletesLogsWithTheirRun()
    {
        // Created finished that long ago, it would be refused (past retention); it ran then, and is reported ended now.
        await _client.CreateRunAsync(new { id = "logs-old", workflowName = "logs", status = "running", createdAt = "2026-08-01T00:00:00Z", startedAt = "2026-08-01T00:00:00Z" });
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync("/api/runs/logs-old", new { status = "completed", completedAt = "2026-08-01T00:01:00Z" })).StatusCode);
        await _client.CreateRunAsync(new { id = "logs-kept", workflowName = "logs", status = "completed" });
        await _client.PostAsJsonAsync("/api/runs/logs-old/logs", new[] { new { message = "old", level = "error" } });
        await _client.PostAsJsonAsync("/api/runs/logs-kept/logs", new[] { new { message = "kept" } });
        const string CountLines = "SELECT COUNT(*) FROM run_logs l JOIN runs r ON r.pk = l.run_pk WHERE r.id IN ('logs-old', 'logs-kept')";
        const string CountAll = "SELECT (SELECT COUNT(*) FROM run_logs) + (SELECT COUNT(*) FROM run_log_counts)";
        var database = factory.Services.GetRequiredService<RunMonitor.Web.Data.Database>();
        long before;
        await using (var connection = await database.OpenAsync()) before = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, CountAll);

        await factory.Services.GetRequiredService<RunMonitor.Web.Runs.RunPurger>().PurgeAsync();

        await using var after = await database.OpenAsync();
        Assert.Equal(1, await Dapper.SqlMapper.ExecuteScalarAsync<long>(after, CountLines));
        // The old run's line and its counts row are gone; nothing else is.
        Assert.Equal(before - 2, await Dapper.SqlMapper.ExecuteScalarAsync<long>(after, CountAll));
        Assert.Equal("kept", (string)(await ItemsAsync("/api/runs/logs-kept/logs"))[0]!["message"]!);
    }

    [Fact]
    public async Task Events_LogLines_SendLogEvent()
    {
        var id = await RunAsync("logs-events");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ui/runs/{id}/events");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var first = await reader.NextEventAsync(timeout.Token);
        await _client.PostAsJsonAsync($"/api/runs/{id}/logs", new[] { new { message = "hello" } });
        var second = await reader.NextEventAsync(timeout.Token);
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/a", new { status = "running" });
        var third = await reader.NextEventAsync(timeout.Token);

        Assert.Equal("event: run|data: running", first);
        Assert.Equal("event: log|data:", second.TrimEnd());
        Assert.Equal("event: run|data: running", third);
    }
}

public sealed class LogsApiTestsOnPostgres(PostgresLogsFactory factory) : LogsApiTests(factory), IClassFixture<PostgresLogsFactory>;
