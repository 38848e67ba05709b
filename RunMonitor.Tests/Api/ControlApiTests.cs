using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Api;

/// The worker protocol (claim, lease, cancel) and retry, end to end over HTTP. Every test uses its
/// own workflow names so claims never pick up another test's runs.
public class ControlApiTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.JsonAsync();
    }

    private Task<HttpResponseMessage> ClaimAsync(object body) => _client.PostAsJsonAsync("/api/queue/claim", body);

    private async Task<JsonElement> ClaimOkAsync(string workflow, string worker = "w1", int leaseSeconds = 30)
    {
        var response = await ClaimAsync(new { worker, workflows = new[] { workflow }, leaseSeconds });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    private async Task<string> QueuedAsync(string workflow, string? createdAt = null, object[]? steps = null, string? name = null) =>
        (await _client.CreateRunAsync(new { workflowName = workflow, name, createdAt, steps })).GetProperty("id").GetString()!;

    private async Task<JsonElement> GetRunAsync(string id) => await (await _client.GetAsync($"/api/runs/{id}")).JsonAsync();

    private static async Task<JsonElement> EventuallyAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> done, int seconds = 10)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > until) return value;
            await Task.Delay(200);
        }
    }

    /// A failed run with three steps: a completed, b failed, c never reached.
    private async Task<string> FailedRunWithStepsAsync(string workflow)
    {
        var id = (await _client.CreateRunAsync(new
        {
            workflowName = workflow, name = "Nightly", status = "running", layerHash = "abc123",
            triggerPayload = new { campaignId = "cmp_9" },
            steps = new[] { new { stepId = "a", skillId = "s.a" }, new { stepId = "b", skillId = "s.b" }, new { stepId = "c", skillId = "s.c" } },
        })).GetProperty("id").GetString()!;
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/a", new { status = "completed", input = new { x = 1 }, output = new { rows = 42 } });
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/b", new { status = "failed", error = new { message = "boom" } });
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "failed", error = new { message = "boom" } })).StatusCode);
        return id;
    }

    [Fact]
    public async Task Claim_SeveralQueued_HandsOutOldestFirstAsRunningWithLeaseAndSteps()
    {
        var newer = await QueuedAsync("claim-order", "2026-11-21T11:00:00Z", [new { stepId = "one" }]);
        var oldest = await QueuedAsync("claim-order", "2026-11-21T09:00:00Z", [new { stepId = "one" }, new { stepId = "two" }]);
        var middle = await QueuedAsync("claim-order", "2026-11-21T10:00:00Z");

        var first = await ClaimOkAsync("claim-order", "worker-a", leaseSeconds: 45);
        var second = await ClaimOkAsync("claim-order");
        var third = await ClaimOkAsync("claim-order");
        var none = await ClaimAsync(new { worker = "worker-a", workflows = new[] { "claim-order" } });

        Assert.Equal([oldest, middle, newer], new[] { first, second, third }.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal("running", first.GetProperty("status").GetString());
        Assert.Equal("worker-a", first.GetProperty("leaseOwner").GetString());
        Assert.Equal(factory.Clock.GetUtcNow().AddSeconds(45), first.GetProperty("leaseExpiresAt").GetDateTimeOffset());
        Assert.NotEqual(JsonValueKind.Null, first.GetProperty("startedAt").ValueKind);
        Assert.Equal(["one", "two"], first.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("stepId").GetString()));
        Assert.False(first.GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, none.StatusCode);
    }

    [Fact]
    public async Task Claim_OtherWorkflowsOnly_Answers204AndLeavesRunQueued()
    {
        var id = await QueuedAsync("claim-filter-wanted");

        var response = await ClaimAsync(new { worker = "w", workflows = new[] { "claim-filter-other" } });

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("queued", (await GetRunAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Claim_TwentyParallelClaimsForFiveRuns_EachRunGoesToExactlyOneWorker()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add(await QueuedAsync("claim-race"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            factory.CreateClient().PostAsJsonAsync("/api/queue/claim", new { worker = $"w{i}", workflows = new[] { "claim-race" } })));

        var claimed = new List<(string Id, string Worker)>();
        foreach (var response in responses.Where(r => r.StatusCode == HttpStatusCode.OK))
        {
            var run = await response.JsonAsync();
            claimed.Add((run.GetProperty("id").GetString()!, run.GetProperty("leaseOwner").GetString()!));
        }
        Assert.Equal(5, claimed.Count);
        Assert.Equal(15, responses.Count(r => r.StatusCode == HttpStatusCode.NoContent));
        Assert.Equal(ids.Order(), claimed.Select(c => c.Id).Order());
        foreach (var (id, worker) in claimed)
            Assert.Equal(worker, (await GetRunAsync(id)).GetProperty("leaseOwner").GetString());
    }

    [Theory]
    [InlineData("{}", "worker")]
    [InlineData("""{"worker":"w","leaseSeconds":2}""", "leaseSeconds")]
    [InlineData("""{"worker":"w","workflows":"one"}""", "workflows")]
    [InlineData("""{"worker":"w","workflows":[1]}""", "workflows")]
    [InlineData("""{"worker":"w","lease":30}""", "lease")]
    [InlineData("""[]""", "body")]
    public async Task Claim_BadBody_Answers400NamingTheField(string body, string field)
    {
        var response = await _client.PostAsync("/api/queue/claim", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Lease_EveryWriteRenewsIt_AndTheRunStaysRunning()
    {
        var id = await QueuedAsync("lease-renew", steps: [new { stepId = "s1" }]);
        await ClaimOkAsync("lease-renew", leaseSeconds: 30);

        factory.Clock.Advance(TimeSpan.FromSeconds(20));
        var put = await _client.PutAsJsonAsync($"/api/runs/{id}/steps/s1", new { status = "running" });
        var afterPut = await GetRunAsync(id);
        factory.Clock.Advance(TimeSpan.FromSeconds(20));
        var patch = await _client.PatchJsonAsync($"/api/runs/{id}", new { metrics = new { targetsMatched = 3 } });
        var afterPatch = await patch.JsonAsync();
        factory.Clock.Advance(TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(4.5)); // two sweeper passes

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.False((await put.JsonAsync()).GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(factory.Clock.GetUtcNow().AddSeconds(-40 + 30), afterPut.GetProperty("leaseExpiresAt").GetDateTimeOffset());
        Assert.Equal(factory.Clock.GetUtcNow().AddSeconds(-20 + 30), afterPatch.GetProperty("leaseExpiresAt").GetDateTimeOffset());
        Assert.False(afterPatch.GetProperty("cancelRequested").GetBoolean());
        Assert.Equal("running", (await GetRunAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Lease_ArtifactUploadRenewsItAndReportsCancelRequested()
    {
        var id = await QueuedAsync("lease-artifact", steps: [new { stepId = "s1" }]);
        await ClaimOkAsync("lease-artifact", leaseSeconds: 30);
        await _client.DeleteAsync($"/api/runs/{id}");

        factory.Clock.Advance(TimeSpan.FromSeconds(20));
        var upload = await _client.PostAsync($"/api/runs/{id}/steps/s1/artifacts?name=out.txt",
            new StringContent("hello", System.Text.Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        Assert.True((await upload.JsonAsync()).GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(factory.Clock.GetUtcNow().AddSeconds(30), (await GetRunAsync(id)).GetProperty("leaseExpiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Lease_RunsOut_SweeperFailsRunWithinTenSeconds()
    {
        var id = await QueuedAsync("lease-expire", steps: [new { stepId = "s1" }, new { stepId = "s2" }]);
        await ClaimOkAsync("lease-expire", leaseSeconds: 10);
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/s1", new { status = "running" });

        factory.Clock.Advance(TimeSpan.FromSeconds(11));
        var run = await EventuallyAsync(() => GetRunAsync(id), r => r.GetProperty("status").GetString() != "running");

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal("worker lease expired", run.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("leaseOwner").ValueKind);
        var steps = await _client.GetJsonAsync($"/api/runs/{id}/steps");
        Assert.Equal("failed", (string?)steps[0]!["status"]);
        Assert.Equal("pending", (string?)steps[1]!["status"]);
        var late = await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task Cancel_QueuedRun_IsCancelledAtOnce()
    {
        var id = await QueuedAsync("cancel-queued");

        var response = await _client.DeleteAsync($"/api/runs/{id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await response.JsonAsync();
        Assert.Equal("cancelled", run.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, run.GetProperty("completedAt").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await ClaimAsync(new { worker = "w", workflows = new[] { "cancel-queued" } })).StatusCode);
    }

    [Fact]
    public async Task Cancel_RunningRun_SetsCancelRequestedWhichEveryWriteReportsUntilWorkerEndsIt()
    {
        var id = await QueuedAsync("cancel-running", steps: [new { stepId = "s1" }]);
        await ClaimOkAsync("cancel-running");

        var response = await _client.DeleteAsync($"/api/runs/{id}");
        var again = await _client.DeleteAsync($"/api/runs/{id}");
        var put = await _client.PutAsJsonAsync($"/api/runs/{id}/steps/s1", new { status = "cancelled" });
        var end = await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "cancelled" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = await response.JsonAsync();
        Assert.Equal("running", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.True((await put.JsonAsync()).GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        Assert.Equal("cancelled", (await end.JsonAsync()).GetProperty("status").GetString());
        Assert.True((await end.JsonAsync()).GetProperty("cancelRequested").GetBoolean());
    }

    [Fact]
    public async Task Cancel_RunningRunWhoseWorkerIsGone_LeaseExpiryEndsItCancelled()
    {
        var id = await QueuedAsync("cancel-gone");
        await ClaimOkAsync("cancel-gone", leaseSeconds: 10);
        await _client.DeleteAsync($"/api/runs/{id}");

        factory.Clock.Advance(TimeSpan.FromSeconds(11));
        var run = await EventuallyAsync(() => GetRunAsync(id), r => r.GetProperty("status").GetString() != "running");

        Assert.Equal("cancelled", run.GetProperty("status").GetString());
        Assert.Equal("worker lease expired", run.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("failed")]
    [InlineData("cancelled")]
    public async Task Cancel_FinishedRun_Answers409WithReason(string status)
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "cancel-done", status })).GetProperty("id").GetString();

        var problem = await Problem(await _client.DeleteAsync($"/api/runs/{id}"), HttpStatusCode.Conflict);

        Assert.Contains($"run is {status}", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Cancel_UnknownRun_Answers404()
    {
        await Problem(await _client.DeleteAsync("/api/runs/no-such-run"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Retry_FailedRun_CreatesQueuedCopyLinkedByRetryOf()
    {
        var id = await FailedRunWithStepsAsync("retry-whole");

        var response = await _client.PostAsync($"/api/runs/{id}/retry", null);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var newId = (await response.JsonAsync()).GetProperty("newRunId").GetString()!;
        Assert.Equal($"/api/runs/{newId}", response.Headers.Location?.OriginalString);
        var run = await GetRunAsync(newId);
        Assert.Equal("queued", run.GetProperty("status").GetString());
        Assert.Equal(id, run.GetProperty("retryOf").GetString());
        Assert.Equal("retry-whole", run.GetProperty("workflowName").GetString());
        Assert.Equal("Nightly", run.GetProperty("name").GetString());
        Assert.Equal("abc123", run.GetProperty("layerHash").GetString());
        Assert.Equal("cmp_9", run.GetProperty("triggerPayload").GetProperty("campaignId").GetString());
        var steps = await _client.GetJsonAsync($"/api/runs/{newId}/steps");
        Assert.Equal(["a", "b", "c"], steps.AsArray().Select(s => (string?)s!["stepId"]));
        Assert.All(steps.AsArray(), s => Assert.Equal("pending", (string?)s!["status"]));
        Assert.Equal(["s.a", "s.b", "s.c"], steps.AsArray().Select(s => (string?)s!["skillId"]));
        Assert.Equal("failed", (await GetRunAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Retry_FromFailedStep_CarriesEarlierStepsAsCompletedCacheHitsAndClaimShowsThem()
    {
        var id = await FailedRunWithStepsAsync("retry-partial");

        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/retry", new { fromFailedStep = true });
        var newId = (await response.JsonAsync()).GetProperty("newRunId").GetString()!;
        var claimed = await ClaimOkAsync("retry-partial");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(newId, claimed.GetProperty("id").GetString());
        var steps = claimed.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["completed", "pending", "pending"], steps.Select(s => s.GetProperty("status").GetString()));
        Assert.True(steps[0].GetProperty("cacheHit").GetBoolean());
        Assert.Equal(42, steps[0].GetProperty("output").GetProperty("rows").GetInt32());
        Assert.False(steps[1].GetProperty("cacheHit").GetBoolean());
        Assert.Equal(2, steps[1].GetProperty("attempt").GetInt32());
        Assert.Equal(1, claimed.GetProperty("stepsCompleted").GetInt32());
        Assert.Equal(id, claimed.GetProperty("retryOf").GetString());
    }

    [Fact]
    public async Task Retry_FromNamedStep_KeepsStepsBeforeIt()
    {
        var id = await FailedRunWithStepsAsync("retry-named");

        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/retry", new { fromStep = "c" });

        var newId = (await response.JsonAsync()).GetProperty("newRunId").GetString()!;
        var steps = await _client.GetJsonAsync($"/api/runs/{newId}/steps");
        Assert.Equal(["completed", "completed", "pending"], steps.AsArray().Select(s => (string?)s!["status"]));
    }

    [Theory]
    [InlineData("""{"fromStep":"nope"}""", "fromStep")]
    [InlineData("""{"fromStep":"a","fromFailedStep":true}""", "fromStep")]
    [InlineData("""{"fromFailedStep":"yes"}""", "fromFailedStep")]
    [InlineData("""{"from":"a"}""", "from")]
    public async Task Retry_BadBody_Answers400NamingTheField(string body, string field)
    {
        var id = await FailedRunWithStepsAsync("retry-bad");

        var response = await _client.PostAsync($"/api/runs/{id}/retry", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Retry_FromFailedStepWhenNoStepFailed_Answers400()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "retry-nofail", status = "cancelled", steps = new[] { new { stepId = "a" } } })).GetProperty("id").GetString();

        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/retry", new { fromFailedStep = true });

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("fromFailedStep", out _));
    }

    [Theory]
    [InlineData("partial", HttpStatusCode.Created)]
    [InlineData("cancelled", HttpStatusCode.Created)]
    [InlineData("completed", HttpStatusCode.Conflict)]
    [InlineData("dry", HttpStatusCode.Conflict)]
    [InlineData("running", HttpStatusCode.Conflict)]
    [InlineData("queued", HttpStatusCode.Conflict)]
    public async Task Retry_ByStatus_AllowedOnlyForFailedPartialOrCancelled(string status, HttpStatusCode expected)
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "retry-rules", status })).GetProperty("id").GetString();

        var response = await _client.PostAsync($"/api/runs/{id}/retry", null);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Conflict)
            Assert.Contains($"run is {status}", (await Problem(response, expected)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Retry_WithTriggerPayload_NewRunGetsItAndTheOldKeepsItsOwn()
    {
        var id = await FailedRunWithStepsAsync("retry-edited");

        var response = await _client.PostAsJsonAsync($"/api/runs/{id}/retry", new { triggerPayload = new { campaignId = "cmp_10", retry = true } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var retry = await GetRunAsync((await response.JsonAsync()).GetProperty("newRunId").GetString()!);
        Assert.Equal("""{"campaignId":"cmp_10","retry":true}""", retry.GetProperty("triggerPayload").GetRawText());
        Assert.Equal(id, retry.GetProperty("retryOf").GetString());
        Assert.Equal("cmp_9", (await GetRunAsync(id)).GetProperty("triggerPayload").GetProperty("campaignId").GetString());
    }

    [Fact]
    public async Task Retry_TriggerPayloadNullOrAbsent_KeepsTheOldOne()
    {
        var id = await FailedRunWithStepsAsync("retry-null-payload");

        var response = await _client.PostAsync($"/api/runs/{id}/retry", new StringContent("""{"triggerPayload":null}""", System.Text.Encoding.UTF8, "application/json"));

        var retry = await GetRunAsync((await response.JsonAsync()).GetProperty("newRunId").GetString()!);
        Assert.Equal("cmp_9", retry.GetProperty("triggerPayload").GetProperty("campaignId").GetString());
    }

    [Fact]
    public async Task Retry_TriggerPayloadOverTheIngestLimit_400NamingIt()
    {
        var id = await FailedRunWithStepsAsync("retry-big-payload");
        var big = new string('x', RunMonitor.Web.Api.JsonBody.MaxRawJson);

        var problem = await Problem(await _client.PostAsJsonAsync($"/api/runs/{id}/retry", new { triggerPayload = big }), HttpStatusCode.BadRequest);

        Assert.Contains("at most", problem.GetProperty("errors").GetProperty("triggerPayload")[0].GetString());
        Assert.Equal(1L, (long?)(await _client.GetJsonAsync("/api/runs?workflow=retry-big-payload"))["total"]);
    }

    [Fact]
    public async Task Retry_BodyNotJson_400()
    {
        var id = await FailedRunWithStepsAsync("retry-not-json");

        var problem = await Problem(await _client.PostAsync($"/api/runs/{id}/retry",
            new StringContent("""{"triggerPayload": {campaignId: 1}}""", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("body", out _));
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("dry")]
    [InlineData("failed")]
    public async Task RunAgain_FinishedRunOfAnyOutcome_NewQueuedRunLinkedToIt(string status)
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "run-again", status, triggerPayload = new { n = 1 } })).GetProperty("id").GetString()!;

        var created = await _client.PostAsJsonAsync($"/api/runs/{id}/retry", new { runAgain = true, triggerPayload = new { n = 2 } });

        var again = await GetRunAsync((await created.JsonAsync()).GetProperty("newRunId").GetString()!);
        Assert.Equal((id, "queued", 2), (again.GetProperty("retryOf").GetString(), again.GetProperty("status").GetString(), again.GetProperty("triggerPayload").GetProperty("n").GetInt32()));
    }

    [Theory]
    [InlineData("running")]
    [InlineData("queued")]
    public async Task RunAgain_ActiveRun_409(string status)
    {
        var active = (await _client.CreateRunAsync(new { workflowName = "run-again-active", status })).GetProperty("id").GetString()!;

        var detail = (await Problem(await _client.PostAsJsonAsync($"/api/runs/{active}/retry", new { runAgain = true }), HttpStatusCode.Conflict)).GetProperty("detail").GetString();

        Assert.Equal($"run is {status}; only a finished run can be run again", detail);
    }

    [Fact]
    public async Task RunAgain_WithFromStep_400()
    {
        var id = await FailedRunWithStepsAsync("run-again-partial");

        var problem = await Problem(await _client.PostAsJsonAsync($"/api/runs/{id}/retry", new { runAgain = true, fromStep = "b" }), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("runAgain", out _));
    }

    [Fact]
    public async Task Retry_UnknownRun_Answers404()
    {
        await Problem(await _client.PostAsync("/api/runs/no-such-run/retry", null), HttpStatusCode.NotFound);
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class ControlApiTestsOnPostgres(PostgresFactory factory) : ControlApiTests(factory), IClassFixture<PostgresFactory>;
