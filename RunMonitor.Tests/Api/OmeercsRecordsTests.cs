using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Api;

/// An omeercs engine reporting a campaign run as its `Run` and `RunStep` entities serialize: planned steps, step
/// PUTs with `endedAt`, an input hash, output artifact ids and an error with details, a failing PATCH naming the
/// failed step, then an `update` run revising it.
public class OmeercsRecordsTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> ReportFailedRunAsync(string id)
    {
        await _client.CreateRunAsync(new
        {
            id, workflowName = "campaign_generation", workflowVersion = "2.3.0", triggerType = "initial",
            triggerPayload = new { campaignId = "cmp_1" },
            steps = new[] { new { stepId = "game_config", skillId = "config.generate" }, new { stepId = "bgm_track", skillId = "audio.bgm" }, new { stepId = "bundle_game", skillId = "bundle.zip" } },
        });
        await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "running" });
        await _client.PutStepAsync(id, "game_config", new
        {
            stepId = "game_config", skillId = "config.generate", status = "completed", inputHash = "sha256:3f9a0c", attempt = 1,
            outputArtifactIds = new[] { "art_cfg_1", "art_cfg_2" }, cacheHit = false,
            startedAt = "2026-11-21T11:50:00Z", endedAt = "2026-11-21T11:50:02Z", durationMs = 2000,
        });
        await _client.PutStepAsync(id, "bgm_track", new
        {
            skillId = "audio.bgm", status = "failed", inputHash = "sha256:77b1", attempt = 2, cacheHit = false,
            startedAt = "2026-11-21T11:50:02Z", endedAt = "2026-11-21T11:50:32Z",
            error = new
            {
                code = "PROVIDER_TIMEOUT", message = "audio provider timed out", attempt = 2, timestamp = "2026-11-21T11:50:32Z",
                details = new { provider = "suno", timeoutMs = 30000, retryable = true },
            },
        });
        var failed = await _client.PatchJsonAsync($"/api/runs/{id}", new
        {
            status = "failed",
            error = new { code = "STEP_FAILED", message = "Step bgm_track failed", failedStepId = "bgm_track", timestamp = "2026-11-21T11:50:33Z" },
        });
        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        return id;
    }

    [Fact]
    public async Task Api_RunAndSteps_RoundTripEveryOmeercsField()
    {
        var id = await ReportFailedRunAsync("om-api");

        var run = await _client.GetJsonAsync($"/api/runs/{id}");
        var steps = (await _client.GetJsonAsync($"/api/runs/{id}/steps")).AsArray();

        Assert.Equal("2.3.0", (string?)run["workflowVersion"]);
        Assert.Equal("initial", (string?)run["triggerType"]);
        Assert.Null(run["baseRunId"]);
        Assert.Equal("STEP_FAILED", (string?)run["error"]!["code"]);
        Assert.Equal("bgm_track", (string?)run["error"]!["failedStepId"]);
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T11:50:33Z"), (DateTimeOffset)run["error"]!["timestamp"]!);
        var config = steps[0]!;
        Assert.Equal("sha256:3f9a0c", (string?)config["inputHash"]);
        Assert.Equal(["art_cfg_1", "art_cfg_2"], config["outputArtifactIds"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T11:50:02Z"), (DateTimeOffset)config["completedAt"]!);
        Assert.Null(config["error"]);
        var bgm = steps[1]!;
        Assert.Equal(30_000, (long)bgm["durationMs"]!);
        Assert.Equal("PROVIDER_TIMEOUT", (string?)bgm["error"]!["code"]);
        Assert.Equal(2, (long)bgm["error"]!["attempt"]!);
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T11:50:32Z"), (DateTimeOffset)bgm["error"]!["timestamp"]!);
        Assert.Equal("suno", (string?)bgm["error"]!["details"]!["provider"]);
        Assert.True((bool)bgm["error"]!["details"]!["retryable"]!);
    }

    [Fact]
    public async Task RunPage_FailedRun_ShowsVersionTriggerCodeFailedStepAndStepError()
    {
        var id = await ReportFailedRunAsync("om-page");

        var doc = await _client.GetDocumentAsync($"/runs/{id}");

        Assert.Equal("2.3.0", doc.QuerySelector(".run-facts .fact-version").Text());
        Assert.Equal("initial", doc.QuerySelector(".run-facts .fact-trigger-type").Text());
        Assert.Null(doc.QuerySelector(".fact-base-run"));
        var runError = doc.QuerySelector(".run-error-card")!;
        Assert.Equal("STEP_FAILED", runError.QuerySelector(".error-code").Text());
        Assert.Equal("STEP_FAILED Step bgm_track failed", runError.QuerySelector(".error-text").Text().Squash());
        Assert.Equal($"/runs/{id}?step=bgm_track", runError.QuerySelector(".run-error-step a")!.GetAttribute("href"));
        // The failed run opens on its failing step.
        var panel = doc.QuerySelector(".step-panel[data-step-id='bgm_track']")!;
        Assert.Equal("sha256:77b1", panel.QuerySelector(".step-input-hash").Text());
        Assert.Equal("PROVIDER_TIMEOUT", panel.QuerySelector(".error-code").Text());
        Assert.Equal("On attempt 2", panel.QuerySelector(".step-error-attempt").Text());
        Assert.Contains("suno", panel.QuerySelector(".step-error-details [data-json-viewer]")!.TextContent);
    }

    [Fact]
    public async Task RunPage_RunErrorIsTheStepsError_NamesTheStepOnceAndKeepsTheStepsCode()
    {
        await _client.CreateRunAsync(new { id = "om-same", workflowName = "campaign_generation", status = "running", steps = new[] { new { stepId = "bundle_game" } } });
        await _client.PutStepAsync("om-same", "bundle_game", new { status = "failed", error = new { code = "BUNDLE_TOO_LARGE", message = "bundle exceeds 5 MB", attempt = 1 } });
        await _client.PatchJsonAsync("/api/runs/om-same", new { status = "failed", error = new { code = "STEP_FAILED", message = "bundle exceeds 5 MB", failedStepId = "bundle_game" } });

        var doc = await _client.GetDocumentAsync("/runs/om-same");

        var runError = doc.QuerySelector(".run-error-card")!;
        Assert.Equal("bundle_game", runError.QuerySelector(".error-step a").Text());
        Assert.Null(runError.QuerySelector(".run-error-step"));
        Assert.Equal("BUNDLE_TOO_LARGE", doc.QuerySelector(".step-panel .error-folded .error-code").Text());
        Assert.Equal("On attempt 1", doc.QuerySelector(".step-panel .step-error-attempt").Text());
    }

    [Fact]
    public async Task StepPanel_CompletedStep_ListsOutputArtifactIds()
    {
        var id = await ReportFailedRunAsync("om-panel");

        var doc = await _client.GetDocumentAsync($"/ui/runs/{id}/steps/game_config");

        Assert.Equal(["art_cfg_1", "art_cfg_2"], doc.QuerySelectorAll(".step-output-artifact-ids li").Select(li => li.Text()));
        Assert.Equal("sha256:3f9a0c", doc.QuerySelector(".step-input-hash").Text());
        Assert.Null(doc.QuerySelector(".step-panel .error-display"));
    }

    [Fact]
    public async Task Modal_FailedRun_ShowsCodeBesideMessage()
    {
        var id = await ReportFailedRunAsync("om-modal");

        var doc = await _client.GetDocumentAsync($"/ui/runs/{id}");

        Assert.Equal("STEP_FAILED", doc.QuerySelector(".run-error .run-error-message .error-code").Text());
        Assert.Equal("STEP_FAILED Step bgm_track failed", doc.QuerySelector(".run-error .run-error-message").Text().Squash());
    }

    [Fact]
    public async Task UpdateRun_BaseInTenant_LinkedAndElsewhereNot()
    {
        var baseId = await ReportFailedRunAsync("om-base");
        await _client.CreateRunAsync(new { id = "om-update", workflowName = "campaign_generation", workflowVersion = "2.3.1", triggerType = "update", baseRunId = baseId });
        await _client.CreateRunAsync(new { id = "om-update-other", tenantId = "other-tenant", workflowName = "campaign_generation", triggerType = "update", baseRunId = baseId });

        var linked = await _client.GetDocumentAsync("/runs/om-update");
        var unlinked = await _client.GetDocumentAsync("/runs/om-update-other");
        var run = await _client.GetJsonAsync("/api/runs/om-update");

        Assert.Equal(baseId, (string?)run["baseRunId"]);
        Assert.Equal("update", (string?)run["triggerType"]);
        Assert.Equal($"/runs/{baseId}", linked.QuerySelector(".fact-base-run a")!.GetAttribute("href"));
        Assert.Null(unlinked.QuerySelector(".fact-base-run a"));
        Assert.Equal(baseId, unlinked.QuerySelector(".fact-base-run").Text());
    }

    [Fact]
    public async Task Export_CsvAndJson_CarryTheRunFields()
    {
        await ReportFailedRunAsync("om-export");

        var csv = (await _client.GetStringAsync("/ui/runs/export.csv?q=om-export")).Split("\r\n");
        var json = JsonDocument.Parse(await _client.GetStringAsync("/ui/runs/export.json?q=om-export")).RootElement.GetProperty("items")[0];

        var header = csv[0].Split(',');
        var row = csv[1].Split(',');
        Assert.Equal("2.3.0", row[Array.IndexOf(header, "workflow_version")]);
        Assert.Equal("initial", row[Array.IndexOf(header, "trigger_type")]);
        Assert.Equal("STEP_FAILED", row[Array.IndexOf(header, "error_code")]);
        Assert.Equal("2.3.0", json.GetProperty("workflowVersion").GetString());
        Assert.Equal("STEP_FAILED", json.GetProperty("errorCode").GetString());
    }

    public static TheoryData<string, object, string> BadRuns => new()
    {
        { "/api/runs", new { workflowName = "wf", triggerType = "sideways" }, "triggerType" },
        { "/api/runs", new { workflowName = "wf", workflowVersion = new string('v', 51) }, "workflowVersion" },
        { "/api/runs", new { workflowName = "wf", baseRunId = "not an id!" }, "baseRunId" },
        { "/api/runs", new { workflowName = "wf", error = new { code = 42 } }, "error.code" },
        { "/api/runs", new { workflowName = "wf", error = new { failedStepId = "bad step!" } }, "error.failedStepId" },
        { "/api/runs", new { workflowName = "wf", error = new { timestamp = "yesterday" } }, "error.timestamp" },
        { "/api/runs", new { workflowName = "wf", errors = new[] { new { topic = "t" } } }, "errors[0].error" },
        { "/api/runs", new { workflowName = "wf", inputHash = "x" }, "inputHash" },
    };

    [Theory]
    [MemberData(nameof(BadRuns))]
    public async Task Create_BadOmeercsField_400NamingIt(string url, object body, string field)
    {
        var response = await _client.PostAsJsonAsync(url, body);

        await AssertProblemNamesAsync(response, field);
    }

    public static TheoryData<object, string> BadSteps => new()
    {
        { new { inputHash = new string('h', 200) }, "inputHash" },
        { new { outputArtifactIds = new[] { 1, 2 } }, "outputArtifactIds" },
        { new { outputArtifactIds = "art_1" }, "outputArtifactIds" },
        { new { outputArtifactIds = Enumerable.Range(0, 101).Select(i => $"a{i}").ToArray() }, "outputArtifactIds" },
        { new { endedAt = "2026-11-21T11:50:02Z", completedAt = "2026-11-21T11:50:02Z" }, "endedAt" },
        { new { endedAt = "soon" }, "endedAt" },
        { new { error = new { details = "not an object" } }, "error.details" },
        { new { error = new { details = new[] { 1 } } }, "error.details" },
        { new { error = new { attempt = 0 } }, "error.attempt" },
        { new { error = new { code = "E", hint = "unknown" } }, "error.hint" },
        { new { id = 5 }, "id" },
        { new { runId = "another-run" }, "runId" },
        { new { createdAt = "when it began" }, "createdAt" },
        { new { stepId = "another-step" }, "stepId" },
    };

    [Theory]
    [MemberData(nameof(BadSteps))]
    public async Task PutStep_BadOmeercsField_400NamingIt(object body, string field)
    {
        await _client.PostAsJsonAsync("/api/runs", new { id = "om-bad-step", workflowName = "wf" }); // 201 once, then 409

        var response = await _client.PutAsJsonAsync("/api/runs/om-bad-step/steps/s1", body);

        await AssertProblemNamesAsync(response, field);
    }

    private static async Task AssertProblemNamesAsync(HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"no error named {field}: {text}");
    }
}

public sealed class OmeercsRecordsTestsOnPostgres(PostgresFactory factory) : OmeercsRecordsTests(factory), IClassFixture<PostgresFactory>;
