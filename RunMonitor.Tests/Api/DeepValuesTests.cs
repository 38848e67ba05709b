using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Api;

/// A body is read at most 64 levels deep, so a value stored from it nests up to 63. Every answer that carries it
/// again (the steps, a claim, the run, a webhook's payload, the logs) nests it a few levels further: each must still
/// be written, after the write that stored it was committed.
public class DeepValuesTests(DeepValuesFactory factory) : IClassFixture<DeepValuesFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    /// `n` arrays, one inside the next.
    private static string Nested(int n) => new string('[', n) + new string(']', n);

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static int Depth(JsonElement e) => e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0
        ? 1 + Depth(e[0])
        : e.ValueKind == JsonValueKind.Array ? 1 : 0;

    /// The answer read with room for what it carries (the default reader stops at 64).
    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"answered {(int)response.StatusCode}, not {(int)expected}: {text}");
        return JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 256 }).RootElement.Clone();
    }

    [Fact]
    public async Task StepInput_AsDeepAsABodyAllows_AnsweredByThePutTheStepsAndAClaim()
    {
        var workflow = "deep-step-" + Guid.NewGuid().ToString("N")[..8];
        var id = (await _client.CreateRunAsync(new { workflowName = workflow, steps = new[] { new { stepId = "s1" } } })).GetProperty("id").GetString();

        var put = await _client.PutAsync($"/api/runs/{id}/steps/s1", Json($$"""{"input":{{Nested(63)}}}"""));
        var steps = await ReadAsync(await _client.GetAsync($"/api/runs/{id}/steps"), HttpStatusCode.OK);
        var claim = await ReadAsync(await _client.PostAsJsonAsync("/api/queue/claim", new { worker = "deep-1", workflows = new[] { workflow } }), HttpStatusCode.OK);

        Assert.Equal(63, Depth((await ReadAsync(put, HttpStatusCode.OK)).GetProperty("step").GetProperty("input")));
        Assert.Equal(63, Depth(steps[0].GetProperty("input")));
        Assert.Equal(id, claim.GetProperty("id").GetString());
        Assert.Equal(63, Depth(claim.GetProperty("steps")[0].GetProperty("input")));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/ui/runs/{id}/steps/s1")).StatusCode);
    }

    [Fact]
    public async Task RunContext_AsDeepAsABodyAllows_RunFinishesWithItsWebhookQueuedAndIsShown()
    {
        var created = await _client.PostAsync("/api/runs", Json($$"""{"workflowName":"deep-run","status":"running","context":{{Nested(63)}}}"""));
        var id = (await ReadAsync(created, HttpStatusCode.Created)).GetProperty("id").GetString();

        var finished = await ReadAsync(await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" }), HttpStatusCode.OK);
        var run = await ReadAsync(await _client.GetAsync($"/api/runs/{id}"), HttpStatusCode.OK);

        Assert.Equal("completed", finished.GetProperty("status").GetString());
        Assert.Equal(63, Depth(run.GetProperty("context")));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/runs/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/ui/runs/{id}")).StatusCode);
    }

    [Fact]
    public async Task LeaseSweep_RunWithADeepPayloadAmongOthers_EveryExpiredRunFailed()
    {
        var workflow = "deep-lease-" + Guid.NewGuid().ToString("N")[..8];
        var deep = (await ReadAsync(await _client.PostAsync("/api/runs", Json($$"""{"workflowName":"{{workflow}}","triggerPayload":{{Nested(63)}}}""")), HttpStatusCode.Created))
            .GetProperty("id").GetString();
        var plain = (await _client.CreateRunAsync(new { workflowName = workflow })).GetProperty("id").GetString();
        foreach (var worker in new[] { "deep-a", "deep-b" })
            await ReadAsync(await _client.PostAsJsonAsync("/api/queue/claim", new { worker, workflows = new[] { workflow }, leaseSeconds = 10 }), HttpStatusCode.OK);

        factory.Clock.Advance(TimeSpan.FromSeconds(11));
        await factory.Services.GetRequiredService<RunQueue>().ExpireLeasesAsync();

        foreach (var id in new[] { deep, plain })
        {
            var run = await ReadAsync(await _client.GetAsync($"/api/runs/{id}"), HttpStatusCode.OK);
            Assert.Equal("failed", run.GetProperty("status").GetString());
            Assert.Equal("worker lease expired", run.GetProperty("error").GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task LogFields_AsDeepAsABodyAllows_Answered()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "deep-logs" })).GetProperty("id").GetString();

        var posted = await _client.PostAsync($"/api/runs/{id}/logs", Json($$$"""[{"message":"deep","fields":{"nested":{{{Nested(61)}}}}}]"""));
        var logs = await ReadAsync(await _client.GetAsync($"/api/runs/{id}/logs"), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.Equal(61, Depth(logs.GetProperty("items")[0].GetProperty("fields").GetProperty("nested")));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/ui/runs/{id}/logs")).StatusCode);
    }
}

/// A webhook receiver configured (nothing listens on port 9), so a finished run's payload is written into its outbox.
public class DeepValuesFactory : RunMonitorFactory
{
    public DeepValuesFactory() : this(TestStore.Sqlite) { }

    protected DeepValuesFactory(TestStore store) : base(store) { }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RunMonitor:Webhooks:0:Url"] = "http://127.0.0.1:9/deep",
        ["RunMonitor:Webhooks:0:Secret"] = "deep",
    };
}

public sealed class PostgresDeepValuesFactory() : DeepValuesFactory(TestStore.Postgres);

public sealed class DeepValuesTestsOnPostgres(PostgresDeepValuesFactory factory) : DeepValuesTests(factory), IClassFixture<PostgresDeepValuesFactory>;
