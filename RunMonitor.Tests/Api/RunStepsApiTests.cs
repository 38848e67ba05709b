using System.Net;
using System.Net.Http.Json;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Api;

/// `GET /api/runs/{id}/steps` in plan order with pending steps, and the run's step counts.
public class RunStepsApiTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Steps_PlannedNotReported_ArePendingInPlanOrder()
    {
        await _client.CreateRunAsync(new
        {
            id = "steps-plan", workflowName = "wf", status = "running",
            steps = new[] { new { stepId = "zeta", skillId = "s.z" }, new { stepId = "alpha", skillId = "s.a" }, new { stepId = "mid", skillId = "s.m" } },
        });
        await _client.PutStepAsync("steps-plan", "mid", new { status = "completed", durationMs = 50 });

        var steps = (await _client.GetJsonAsync("/api/runs/steps-plan/steps")).AsArray();

        Assert.Equal(["zeta", "alpha", "mid"], steps.Select(s => (string)s!["stepId"]!));
        Assert.Equal(["pending", "pending", "completed"], steps.Select(s => (string)s!["status"]!));
        Assert.Equal([0, 1, 2], steps.Select(s => (int)s!["index"]!));
        Assert.Equal("s.z", (string)steps[0]!["skillId"]!);
    }

    [Fact]
    public async Task Steps_UnplannedReport_AppendsAfterPlan()
    {
        await _client.CreateRunAsync(new { id = "steps-extra", workflowName = "wf", steps = new[] { new { stepId = "b" }, new { stepId = "a" } } });

        await _client.PutStepAsync("steps-extra", "extra", new { status = "running" });
        await _client.PutStepAsync("steps-extra", "a", new { status = "completed", durationMs = 10 });
        var steps = (await _client.GetJsonAsync("/api/runs/steps-extra/steps")).AsArray();
        var run = await _client.GetJsonAsync("/api/runs/steps-extra");

        Assert.Equal(["b", "a", "extra"], steps.Select(s => (string)s!["stepId"]!));
        Assert.Equal(3, (long)run["stepsTotal"]!);
        Assert.Equal(1, (long)run["stepsCompleted"]!);
    }

    [Fact]
    public async Task Step_SetGoingAgainAfterItEnded_KeepsNeitherTheEndNorTheDurationOfTheAttemptBefore()
    {
        var minute = factory.Clock.GetUtcNow().AddMinutes(-10);
        string At(int second) => minute.AddSeconds(second).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        await _client.CreateRunAsync(new { id = "steps-again", workflowName = "wf", status = "running", steps = new[] { new { stepId = "a" }, new { stepId = "b" } } });
        await _client.PutStepAsync("steps-again", "a", new { status = "failed", attempt = 1, startedAt = At(3), endedAt = At(4) });
        await _client.PutStepAsync("steps-again", "b", new { status = "failed", startedAt = At(3), completedAt = At(4) });

        // omeercs's RunStep as it serializes: the end and duration of the new attempt null.
        await _client.PutStepAsync("steps-again", "a", new { status = "running", attempt = 2, startedAt = At(5), endedAt = (string?)null, durationMs = (long?)null });
        await _client.PutStepAsync("steps-again", "b", new { status = "running" });
        var steps = (await _client.GetJsonAsync("/api/runs/steps-again/steps")).AsArray();

        Assert.Equal(["running", "running"], steps.Select(s => (string)s!["status"]!));
        Assert.Equal(DateTimeOffset.Parse(At(5), System.Globalization.CultureInfo.InvariantCulture), (DateTimeOffset)steps[0]!["startedAt"]!);
        Assert.Equal(2, (long)steps[0]!["attempt"]!);
        Assert.All(steps, s => Assert.Null(s!["completedAt"]));
        Assert.All(steps, s => Assert.Null(s!["durationMs"]));
        // Started again without a time of its own: now, not the start of the attempt before.
        Assert.Equal(factory.Clock.GetUtcNow(), (DateTimeOffset)steps[1]!["startedAt"]!);
    }

    [Fact]
    public async Task Step_UnderWayGivenAnEnd_400NamingIt_AndPendingAgainHasNoStart()
    {
        var minute = factory.Clock.GetUtcNow().AddMinutes(-10);
        string At(int second) => minute.AddSeconds(second).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        await _client.CreateRunAsync(new { id = "steps-under-way", workflowName = "wf", status = "running", steps = new[] { new { stepId = "a" }, new { stepId = "b" } } });
        await _client.PutStepAsync("steps-under-way", "a", new { status = "completed", startedAt = At(1), endedAt = At(4) });
        await _client.PutStepAsync("steps-under-way", "b", new { status = "failed", startedAt = At(1), completedAt = At(4) });

        // The end of the attempt before, sent again as the next one starts (now): that step would read as ended before it began.
        var refused = await _client.PutAsJsonAsync("/api/runs/steps-under-way/steps/a", new { status = "running", endedAt = At(4) });
        await _client.PutStepAsync("steps-under-way", "b", new { status = "pending" });
        var steps = (await _client.GetJsonAsync("/api/runs/steps-under-way/steps")).AsArray();

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.StartsWith("is for a step that has ended, and this one is running", (await refused.JsonAsync()).GetProperty("errors").GetProperty("endedAt")[0].GetString());
        Assert.Equal(("completed", DateTimeOffset.Parse(At(4), System.Globalization.CultureInfo.InvariantCulture)),
            ((string)steps[0]!["status"]!, (DateTimeOffset)steps[0]!["completedAt"]!));
        Assert.Equal("pending", (string?)steps[1]!["status"]);
        Assert.Null(steps[1]!["startedAt"]);
        Assert.Null(steps[1]!["completedAt"]);
    }

    [Fact]
    public async Task Run_CarriesEverySpecField()
    {
        await _client.CreateRunAsync(new { id = "steps-fields", workflowName = "wf", steps = new[] { new { stepId = "one" } } });

        var run = (await _client.GetJsonAsync("/api/runs/steps-fields")).AsObject();

        string[] spec =
        [
            "id", "tenantId", "workflowName", "name", "status", "dryRun", "triggerPayload", "context", "error", "errors", "metrics",
            "usage", "layerHash", "retryOf", "cancelRequested", "leaseOwner", "leaseExpiresAt", "createdAt", "startedAt",
            "completedAt", "durationMs", "stepsTotal", "stepsCompleted",
        ];
        Assert.Empty(spec.Except(run.Select(p => p.Key)));
        Assert.Equal(1, (long)run["stepsTotal"]!);
        Assert.Equal(0, (long)run["stepsCompleted"]!);
    }

    [Fact]
    public async Task Steps_MissingRun_Answers404()
    {
        var response = await _client.GetAsync("/api/runs/steps-none/steps");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Run not found", (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("title").GetString());
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class RunStepsApiTestsOnPostgres(PostgresFactory factory) : RunStepsApiTests(factory), IClassFixture<PostgresFactory>;
