using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Api;

/// A JSON null in a run's PATCH or a step's PUT, as in a JSON merge patch: it clears a field that can be empty, and is
/// a 400 naming a field that cannot (a status). A run's and a step's times and duration are the exception engines need
/// (their records say null there until they know): null keeps them. A reported cost cleared, or a placeholder cost of
/// 0 given before any token, is estimated from the tokens once they come.
public class PatchNullsTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonNode> PatchAsync(string id, string json)
    {
        var response = await _client.PatchAsync($"/api/runs/{id}", Json(json));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PATCH answered {(int)response.StatusCode}: {text}");
        return await _client.GetJsonAsync($"/api/runs/{id}");
    }

    [Fact]
    public async Task Patch_CostNullAfterAReportedZero_EstimatedFromTheTokens()
    {
        await _client.CreateRunAsync(new { id = "null-cost", workflowName = "w", usage = new { model = "gpt-4o-mini", tokensInput = 0, tokensOutput = 0, costUsd = 0 } });

        var run = await PatchAsync("null-cost", """{"usage":{"tokensInput":100000,"tokensOutput":50000,"costUsd":null}}""");

        Assert.Equal(0.045, (double)run["usage"]!["costUsd"]!, 6);
        Assert.True((bool)run["usage"]!["costEstimated"]!);
        var modal = await _client.GetDocumentAsync("/ui/runs/null-cost");
        Assert.StartsWith("$0.0450", modal.QuerySelectorAll(".metric-row").Single(r => r.QuerySelector(".metric-label").Text() == "Estimated cost").Children.Last().Text());
    }

    [Fact]
    public async Task Patch_TokensAfterAZeroCostReportedWithoutTokens_Estimated()
    {
        // An engine's placeholder: $0 before anything ran. Tokens reported later without a cost are priced, not shown as $0.
        await _client.CreateRunAsync(new { id = "zero-placeholder", workflowName = "w", usage = new { model = "gpt-4o-mini", costUsd = 0 } });

        var run = await PatchAsync("zero-placeholder", """{"usage":{"tokensInput":100000,"tokensOutput":50000}}""");

        Assert.Equal(0.045, (double)run["usage"]!["costUsd"]!, 6);
        Assert.True((bool)run["usage"]!["costEstimated"]!);
    }

    [Fact]
    public async Task Patch_TokensAfterAZeroCostReportedWithoutTokens_ModelNotPriced_KeepsTheZero()
    {
        // The placeholder's $0 gives way to an estimate only: a model the price table does not know leaves the engine's 0.
        await _client.CreateRunAsync(new { id = "zero-unpriced", workflowName = "w", usage = new { model = "in-house-llm", costUsd = 0 } });

        var run = await PatchAsync("zero-unpriced", """{"usage":{"tokensInput":100000,"tokensOutput":50000}}""");

        Assert.Equal(0.0, (double)run["usage"]!["costUsd"]!);
        Assert.False((bool)run["usage"]!["costEstimated"]!);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.0)]
    public async Task Patch_TokensAfterACostReportedWithTokens_KeepsTheEnginesCost(double cost)
    {
        // A cost reported with its tokens is the engine's own price (a free local model's 0 too): more tokens do not replace it.
        var id = cost == 0 ? "kept-zero" : "kept-cost";
        await _client.CreateRunAsync(new { id, workflowName = "w", usage = new { model = "gpt-4o-mini", tokensInput = 10, costUsd = cost } });

        var run = await PatchAsync(id, """{"usage":{"tokensInput":100000,"tokensOutput":50000}}""");

        Assert.Equal(cost, (double)run["usage"]!["costUsd"]!);
        Assert.False((bool)run["usage"]!["costEstimated"]!);
    }

    [Fact]
    public async Task Patch_CostNullWithoutTokens_ClearsIt()
    {
        await _client.CreateRunAsync(new { id = "clear-cost", workflowName = "w", usage = new { model = "m", costUsd = 1.25 } });

        var run = await PatchAsync("clear-cost", """{"usage":{"costUsd":null}}""");

        Assert.Null(run["usage"]!["costUsd"]);
        Assert.Equal("m", (string?)run["usage"]!["model"]);
    }

    [Fact]
    public async Task Patch_ContextNull_ClearsIt()
    {
        await _client.CreateRunAsync(new { id = "clear-context", workflowName = "w", context = new { cursor = 42 } });

        var run = await PatchAsync("clear-context", """{"context":null}""");

        Assert.Null(run["context"]);
    }

    [Fact]
    public async Task Patch_MetricNull_ClearsThatMetricOnly()
    {
        await _client.CreateRunAsync(new { id = "clear-metric", workflowName = "w", metrics = new { targetsMatched = 10, targetsProcessed = 8 } });

        var run = await PatchAsync("clear-metric", """{"metrics":{"targetsMatched":null}}""");

        Assert.Null(run["metrics"]!["targetsMatched"]);
        Assert.Equal(8, (long)run["metrics"]!["targetsProcessed"]!);
    }

    [Fact]
    public async Task Patch_MetricsAndUsageNull_ClearEachOfTheirFields()
    {
        await _client.CreateRunAsync(new
        {
            id = "clear-objects", workflowName = "w", metrics = new { targetsMatched = 10, insightsCreated = 3 },
            usage = new { profile = "p", provider = "openai", model = "gpt-4o-mini", tokensInput = 1000, tokensOutput = 10, costUsd = 0.2 },
        });

        var run = await PatchAsync("clear-objects", """{"metrics":null,"usage":null}""");

        Assert.All(run["metrics"]!.AsObject(), m => Assert.Null(m.Value));
        Assert.All(run["usage"]!.AsObject().Where(u => u.Key != "costEstimated"), u => Assert.Null(u.Value));
    }

    [Fact]
    public async Task Patch_ZosColumnNull_ClearsIt()
    {
        await _client.CreateRunAsync(new { id = "clear-zos", workflowName = "w", usage = new { provider = "anthropic", model = "claude-sonnet-4" } });

        var run = await PatchAsync("clear-zos", """{"model_provider":null}""");

        Assert.Null(run["usage"]!["provider"]);
        Assert.Equal("claude-sonnet-4", (string?)run["usage"]!["model"]);
    }

    [Fact]
    public async Task Patch_ErrorsNull_ClearsTheList()
    {
        await _client.CreateRunAsync(new { id = "clear-errors", workflowName = "w", errors = new[] { new { topic = "t", error = "boom" } } });

        var run = await PatchAsync("clear-errors", """{"errors":null}""");

        Assert.Empty(run["errors"]!.AsArray());
    }

    [Fact]
    public async Task Patch_StatusNull_400NamingStatusAndNothingChanged()
    {
        await _client.CreateRunAsync(new { id = "null-status", workflowName = "w", status = "running", context = new { a = 1 } });

        var problem = await (await _client.PatchAsync("/api/runs/null-status", Json("""{"status":null,"context":null}"""))).ProblemAsync();

        Assert.StartsWith("cannot be cleared", (string?)problem["errors"]!["status"]![0]);
        var run = await _client.GetJsonAsync("/api/runs/null-status");
        Assert.Equal("running", (string?)run["status"]);
        Assert.Equal(1, (long)run["context"]!["a"]!);
    }

    [Fact]
    public async Task Patch_TimesAndDurationNull_KeptAsEnginesRecordsSayNullUntilTheyKnow()
    {
        await _client.CreateRunAsync(new { id = "null-times", workflowName = "w", status = "running", startedAt = "2026-11-21T11:00:00Z" });

        var run = await PatchAsync("null-times", """{"startedAt":null,"completedAt":null,"durationMs":null}""");

        Assert.Equal(DateTimeOffset.Parse("2026-11-21T11:00:00Z"), (DateTimeOffset)run["startedAt"]!);
        Assert.Equal("running", (string?)run["status"]);
    }

    [Fact]
    public async Task Batch_UpdateWithContextNull_ClearsIt()
    {
        await _client.CreateRunAsync(new { id = "batch-clear", workflowName = "w", context = new { cursor = 1 } });

        var response = await _client.PostAsync("/api/ingest", new StringContent("""{"type":"update","id":"batch-clear","context":null}""", Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null((await _client.GetJsonAsync("/api/runs/batch-clear"))["context"]);
    }

    [Fact]
    public async Task StepPut_NullsClearInputOutputHashAndArtifactIds()
    {
        await _client.CreateRunAsync(new { id = "step-clear", workflowName = "w", status = "running" });
        await _client.PutStepAsync("step-clear", "s", new
        {
            skillId = "k", status = "completed", input = new { a = 1 }, output = new { b = 2 }, inputHash = "sha256:1", outputArtifactIds = new[] { "x" },
        });

        var response = await _client.PutAsync("/api/runs/step-clear/steps/s",
            Json("""{"skillId":null,"input":null,"output":null,"inputHash":null,"outputArtifactIds":null}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var step = (await _client.GetJsonAsync("/api/runs/step-clear/steps")).AsArray().Single()!;
        Assert.Equal("completed", (string?)step["status"]);
        Assert.Null(step["skillId"]);
        Assert.Null(step["input"]);
        Assert.Null(step["output"]);
        Assert.Null(step["inputHash"]);
        Assert.True(step["outputArtifactIds"] is null || step["outputArtifactIds"]!.AsArray().Count == 0, step.ToJsonString());
    }

    [Theory]
    [InlineData("status")]
    [InlineData("attempt")]
    [InlineData("cacheHit")]
    public async Task StepPut_NullForAFieldAStepAlwaysHas_400NamingIt(string field)
    {
        await _client.CreateRunAsync(new { id = $"step-null-{field}", workflowName = "w", status = "running" });
        await _client.PutStepAsync($"step-null-{field}", "s", new { status = "running", attempt = 2, cacheHit = true, output = new { b = 2 } });

        var problem = await (await _client.PutAsync($"/api/runs/step-null-{field}/steps/s", Json($$"""{"{{field}}":null,"output":null}"""))).ProblemAsync();

        Assert.StartsWith("cannot be cleared", (string?)problem["errors"]![field]![0]);
        var step = (await _client.GetJsonAsync($"/api/runs/step-null-{field}/steps")).AsArray().Single()!;
        Assert.Equal("running", (string?)step["status"]);
        Assert.Equal(2, (long)step["attempt"]!);
        Assert.True((bool)step["cacheHit"]!);
        Assert.Equal(2, (long)step["output"]!["b"]!);
    }
}

public sealed class PatchNullsTestsOnPostgres(PostgresFactory factory) : PatchNullsTests(factory), IClassFixture<PostgresFactory>;
