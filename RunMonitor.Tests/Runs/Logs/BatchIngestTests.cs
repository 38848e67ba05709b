using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Runs.Logs;

/// The app with a webhook (a dead receiver: deliveries are only queued here), to count what a batch queues.
public class BatchFactory : RunMonitorFactory
{
    public BatchFactory() : this(TestStore.Sqlite) { }

    protected BatchFactory(TestStore store) : base(store) { }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RunMonitor:Webhooks:0:Url"] = "http://127.0.0.1:9/dead",
        ["RunMonitor:Webhooks:0:Secret"] = "s",
    };
}

public sealed class PostgresBatchFactory() : BatchFactory(TestStore.Postgres);

/// `POST /api/ingest` (SPEC "Batch ingest"): NDJSON events applied in order in one transaction, all or nothing.
public class BatchIngestTests(BatchFactory factory) : IClassFixture<BatchFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task<HttpResponseMessage> IngestAsync(params object[] lines) => IngestRawAsync(string.Join("\n", lines.Select(l => System.Text.Json.JsonSerializer.Serialize(l))));

    private Task<HttpResponseMessage> IngestRawAsync(string body) =>
        _client.PostAsync("/api/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));

    [Fact]
    public async Task Ingest_EveryType_AppliedInOrder()
    {
        var response = await IngestAsync(
            new { type = "run", id = "batch-all", workflowName = "batch", status = "running", steps = new[] { new { stepId = "a" }, new { stepId = "b" } } },
            new { type = "step", runId = "batch-all", stepId = "a", status = "running" },
            new { type = "log", runId = "batch-all", message = "working", step = "a" },
            new { type = "log", runId = "batch-all", message = "careful", level = "warn" },
            new { type = "step", runId = "batch-all", stepId = "a", status = "completed", durationMs = 5 },
            new { type = "update", id = "batch-all", status = "completed", metrics = new { targetsProcessed = 3 } });

        var run = await _client.GetJsonAsync("/api/runs/batch-all");
        var steps = (await _client.GetJsonAsync("/api/runs/batch-all/steps")).AsArray();
        var logs = (await _client.GetJsonAsync("/api/runs/batch-all/logs"))["items"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(6, (await response.JsonAsync()).GetProperty("applied").GetInt32());
        Assert.Equal("completed", (string)run["status"]!);
        Assert.Equal(3, (long)run["metrics"]!["targetsProcessed"]!);
        Assert.Equal(["completed", "pending"], steps.Select(s => (string)s!["status"]!));
        Assert.Equal(["working", "careful"], logs.Select(l => (string)l!["message"]!));
        Assert.Equal("a", (string)logs[0]!["step"]!);
    }

    [Fact]
    public async Task Ingest_TenantInTheUrl_RunsWithoutOneMadeThereAndFoundByTheLaterLines()
    {
        var response = await _client.PostAsync("/api/ingest?tenant=zeta", new StringContent(string.Join("\n",
            """{"type":"run","id":"batch-zeta","workflowName":"batch","status":"running"}""",
            """{"type":"log","runId":"batch-zeta","message":"in zeta"}""",
            """{"type":"update","id":"batch-zeta","status":"completed"}"""), Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await _client.GetJsonAsync("/api/runs/batch-zeta?tenant=zeta");
        Assert.Equal("zeta", (string)run["tenantId"]!);
        Assert.Equal("completed", (string)run["status"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/batch-zeta?tenant=default")).StatusCode);
    }

    [Theory]
    [InlineData("""{"type":"telemetry","id":"x"}""", "line 2.type")]
    [InlineData("""{"id":"x"}""", "line 2.type")]
    [InlineData("""{"type":"log","runId":"batch-bad","level":"loud","message":"x"}""", "line 2.level")]
    [InlineData("""{"type":"log","runId":"batch-bad"}""", "line 2.message")]
    [InlineData("""{"type":"log","message":"x"}""", "line 2.runId")]
    [InlineData("""{"type":"update","id":"batch-bad","status":"sleeping"}""", "line 2.status")]
    [InlineData("""{"type":"step","runId":"batch-bad","status":"running"}""", "line 2.stepId")]
    [InlineData("""{"type":"run","workflowName":"w","colour":"red"}""", "line 2.colour")]
    [InlineData("""not json""", "line 2")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"a\u0000b"}""", "line 2.message")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"x","fields":{"a":"\ud800"}}""", "line 2.fields.a")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"x","fields":[1]}""", "line 2.fields")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"x","ts":"2026-11-21"}""", "line 2.ts")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"x","step":"two words"}""", "line 2.step")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"x","colour":"red"}""", "line 2.colour")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"x","message":"y"}""", "line 2.message")]
    [InlineData("""{"type":"update","id":"batch-bad","status":"running","status":"failed"}""", "line 2.status")]
    [InlineData("""{"type":"log","runId":"batch-bad","message":"x"} {}""", "line 2")]
    public async Task Ingest_BadLine_400NamesLineAndField_NothingApplied(string bad, string field)
    {
        var id = "batch-bad-" + Math.Abs(StringComparer.Ordinal.GetHashCode(bad) % 1_000_000);
        var body = System.Text.Json.JsonSerializer.Serialize(new { type = "run", id, workflowName = "batch" }) + "\n" + bad.Replace("batch-bad", id) +
                   "\n" + System.Text.Json.JsonSerializer.Serialize(new { type = "log", runId = id, message = "after" });

        var response = await IngestRawAsync(body);
        var problem = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        // As a batch refused whole (409, 404): the line and the field as members of their own.
        Assert.Equal(2, problem.GetProperty("line").GetInt64());
        Assert.Equal(field.Length > "line 2".Length ? field["line 2.".Length..] : null, problem.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/runs/{id}")).StatusCode);
    }

    [Fact]
    public async Task Ingest_StepLines_RunCountsEveryStep()
    {
        var response = await IngestAsync(
            new { type = "run", id = "batch-counts", workflowName = "batch", status = "running", steps = new[] { new { stepId = "a" }, new { stepId = "b" } } },
            new { type = "step", runId = "batch-counts", stepId = "a", status = "completed" },
            new { type = "step", runId = "batch-counts", stepId = "c", status = "running" },
            new { type = "update", id = "batch-counts", metrics = new { targetsProcessed = 1 } },
            new { type = "step", runId = "batch-counts", stepId = "b", status = "completed" },
            new { type = "step", runId = "batch-counts", stepId = "c", status = "completed" },
            new { type = "step", runId = "batch-counts", stepId = "d", status = "failed" });

        var run = await _client.GetJsonAsync("/api/runs/batch-counts");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, (long)run["stepsTotal"]!);
        Assert.Equal(3, (long)run["stepsCompleted"]!);
        Assert.Equal(1, (long)run["metrics"]!["targetsProcessed"]!);
    }

    // Plain log events are read from their bytes, others through the single call's parser: both as POST /logs keeps them.
    [Fact]
    public async Task Ingest_LogLines_KeptAsTheSingleCallKeepsThem()
    {
        string[] lines =
        [
            """{"ts":"2026-11-21T08:00:00.123+02:00","level":"WARNING","step":"fetch","message":"h\u00e9llo \"quoted\" <b>","fields":{ "a" : [1, {"b":"\u00fc"}], "n":null }}""",
            """{"message":"","level":null,"step":null,"fields":null,"ts":"2026-11-21T08:00:01Z"}""",
            """{"mess\u0061ge":"escaped name","level":" Error "}""",
            """{"message":"ünïcode ✓ 🎉","fields":{}}""",
        ];
        await IngestAsync(new { type = "run", id = "batch-same", workflowName = "batch" });
        await _client.CreateRunAsync(new { id = "single-same", workflowName = "batch" });

        var batch = await IngestRawAsync(string.Join("\n", lines.Select(l => """{"type":"log","runId":"batch-same",""" + l[1..])));
        var single = await _client.PostAsync("/api/runs/single-same/logs", new StringContent(string.Join("\n", lines), Encoding.UTF8, "application/x-ndjson"));
        var fromBatch = (await _client.GetJsonAsync("/api/runs/batch-same/logs"))["items"]!.ToJsonString();
        var fromSingle = (await _client.GetJsonAsync("/api/runs/single-same/logs"))["items"]!.ToJsonString();

        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.True(single.IsSuccessStatusCode, await single.Content.ReadAsStringAsync());
        Assert.Equal(fromSingle, fromBatch);
    }

    [Fact]
    public async Task Ingest_LineRefusedWhenApplied_RollsBackEarlierLines()
    {
        await _client.CreateRunAsync(new { id = "batch-done", workflowName = "batch", status = "completed" });

        var response = await IngestAsync(
            new { type = "run", id = "batch-rollback", workflowName = "batch", status = "running" },
            new { type = "log", runId = "batch-rollback", message = "written, then undone" },
            new { type = "log", runId = "batch-done", message = "also undone" },
            new { type = "update", id = "batch-done", status = "running" });
        var problem = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(4, problem.GetProperty("line").GetInt32());
        Assert.Equal("status", problem.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/batch-rollback")).StatusCode);
        Assert.Empty((await _client.GetJsonAsync("/api/runs/batch-done/logs"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Ingest_LargeBatchRefusedAtItsLastLine_NothingOfItKept()
    {
        // A batch of a few thousand lines, whose savepoint journal SQLite's writer keeps in memory (a journal past 64 KiB
        // undone from memory is `DatabaseTests`'s): refused at its last line, it leaves nothing behind.
        await _client.CreateRunAsync(new { id = "batch-big-done", workflowName = "batch", status = "completed" });
        await _client.CreateRunAsync(new { id = "batch-big-kept", workflowName = "batch", status = "running" });
        await IngestAsync(new { type = "log", runId = "batch-big-kept", message = "kept from before" });
        var lines = new List<object>();
        for (var i = 0; i < 4000; i++)
            lines.Add(new { type = "log", runId = i % 2 == 0 ? "batch-big-kept" : "batch-big-done", message = $"line {i} " + new string('x', 200), fields = new { i } });
        for (var i = 0; i < 200; i++) lines.Add(new { type = "step", runId = "batch-big-kept", stepId = $"s{i}", status = "completed", durationMs = i });
        lines.Add(new { type = "update", id = "batch-big-done", status = "running" });

        var response = await IngestAsync([.. lines]);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(4201, (await response.JsonAsync()).GetProperty("line").GetInt32());
        Assert.Equal(["kept from before"], (await _client.GetJsonAsync("/api/runs/batch-big-kept/logs"))["items"]!.AsArray().Select(l => (string)l!["message"]!));
        Assert.Empty((await _client.GetJsonAsync("/api/runs/batch-big-done/logs"))["items"]!.AsArray());
        Assert.Empty((await _client.GetJsonAsync("/api/runs/batch-big-kept/steps")).AsArray());
    }

    [Fact]
    public async Task Ingest_MissingRun_404NamesLine()
    {
        var response = await IngestAsync(
            new { type = "run", id = "batch-404", workflowName = "batch" },
            new { type = "step", runId = "no-such-run", stepId = "a", status = "running" });
        var problem = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(2, problem.GetProperty("line").GetInt32());
        Assert.Equal("runId", problem.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/batch-404")).StatusCode);
    }

    [Fact]
    public async Task Ingest_ExistingRunId_409()
    {
        await _client.CreateRunAsync(new { id = "batch-exists", workflowName = "batch" });

        var response = await IngestAsync(new { type = "run", id = "batch-exists", workflowName = "batch" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(1, (await response.JsonAsync()).GetProperty("line").GetInt32());
    }

    [Fact]
    public async Task Ingest_Limits_413()
    {
        var many = string.Concat(Enumerable.Range(0, 10_001).Select(i => "{\"type\":\"log\",\"runId\":\"r\",\"message\":\"m\"}\n"));
        var big = "{\"type\":\"log\",\"runId\":\"r\",\"message\":\"" + new string('x', 10 * 1024 * 1024) + "\"}\n";

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await IngestRawAsync(many)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await IngestRawAsync(big)).StatusCode);
    }

    [Fact]
    public async Task Ingest_JsonContentOtherThanNdjsonLines_Refused()
    {
        var array = await _client.PostAsync("/api/ingest", new StringContent("[{\"type\":\"run\",\"workflowName\":\"w\"}]", Encoding.UTF8, "application/json"));
        var text = await _client.PostAsync("/api/ingest", new StringContent("hello", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.BadRequest, array.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
    }

    [Fact]
    public async Task Ingest_NdjsonInAnotherCharset_415AndNothingApplied()
    {
        var content = new ByteArrayContent(Encoding.Unicode.GetBytes("{\"type\":\"run\",\"id\":\"utf16-run\",\"workflowName\":\"w\"}\n"));
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("application/x-ndjson; charset=utf-16");

        var response = await _client.PostAsync("/api/ingest", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("is said to be utf-16", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/utf16-run")).StatusCode);
    }

    [Fact]
    public async Task Ingest_RunCompletedByBatch_QueuesItsWebhookOnce()
    {
        var response = await IngestAsync(
            new { type = "run", id = "batch-hook", workflowName = "batch", status = "running" },
            new { type = "step", runId = "batch-hook", stepId = "a", status = "completed" },
            new { type = "update", id = "batch-hook", status = "completed" },
            new { type = "log", runId = "batch-hook", message = "flushed after the end" });
        var database = factory.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        var deliveries = await WebhookOutbox.ForRunAsync(connection, RunMonitor.Web.Security.Caller.DefaultTenant, "batch-hook");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(deliveries);
        Assert.Equal("run.completed", deliveries[0].Event);
    }

    [Fact]
    public async Task Ingest_RenewsLeaseOfClaimedRun()
    {
        await _client.CreateRunAsync(new { id = "batch-lease", workflowName = "batch-lease-wf" });
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/api/queue/claim", new { worker = "w1", workflows = new[] { "batch-lease-wf" }, leaseSeconds = 60 })).StatusCode);
        var before = DateTimeOffset.Parse((string)(await _client.GetJsonAsync("/api/runs/batch-lease"))["leaseExpiresAt"]!, System.Globalization.CultureInfo.InvariantCulture);

        factory.Clock.Advance(TimeSpan.FromSeconds(20));
        await IngestAsync(new { type = "log", runId = "batch-lease", message = "alive" });
        var after = DateTimeOffset.Parse((string)(await _client.GetJsonAsync("/api/runs/batch-lease"))["leaseExpiresAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        factory.Clock.Advance(TimeSpan.FromSeconds(-20));

        Assert.Equal(before.AddSeconds(20), after);
    }
}

public sealed class BatchIngestTestsOnPostgres(PostgresBatchFactory factory) : BatchIngestTests(factory), IClassFixture<PostgresBatchFactory>;

/// Which batches SQLite writes as one run's write, its journal in memory (`BatchIngest.RunsNamed`): one naming many
/// existing runs changes pages of each, and at the 1M store 10,000 such lines grew the app by 857 MB (docs/PERFORMANCE.md).
public class BatchRunsNamedTests
{
    private static BatchStep Step(int number, string runId) => new(number, runId, "s", new StepUpsert { Status = "running" });

    [Fact]
    public void RunsNamed_TenThousandLinesAboutOneRun_One()
    {
        var lines = new List<BatchLine> { new BatchCreate(1, new NewRun { Id = "r", WorkflowName = "w" }) };
        lines.AddRange(Enumerable.Range(2, 9_999).Select(n => n % 2 == 0
            ? (BatchLine)Step(n, "r")
            : new BatchLog(n, "r", new LogLineIn(null, 2, null, "line", null))));

        Assert.Equal(1, BatchIngest.RunsNamed(lines));
        Assert.True(BatchIngest.RunsNamed(lines) <= BatchIngest.FewRuns);
    }

    [Fact]
    public void RunsNamed_StepLinesForManyRuns_MoreThanFew()
    {
        var lines = Enumerable.Range(1, 10_000).Select(n => (BatchLine)Step(n, $"run-{n}")).ToList();

        Assert.True(BatchIngest.RunsNamed(lines) > BatchIngest.FewRuns);
    }

    [Fact]
    public void RunsNamed_CreatesWithoutIds_EachARun()
    {
        var lines = Enumerable.Range(1, BatchIngest.FewRuns + 1).Select(n => (BatchLine)new BatchCreate(n, new NewRun { WorkflowName = "w" })).ToList();

        Assert.True(BatchIngest.RunsNamed(lines) > BatchIngest.FewRuns);
        Assert.Equal(3, BatchIngest.RunsNamed(lines.Take(3).ToList()));
    }

    [Fact]
    public void RunsNamed_UpdatesOfAFewRuns_Counted()
    {
        var lines = Enumerable.Range(1, 300).Select(n => (BatchLine)new BatchUpdate(n, $"run-{n % 3}", new RunPatch())).ToList();

        Assert.Equal(3, BatchIngest.RunsNamed(lines));
    }
}
