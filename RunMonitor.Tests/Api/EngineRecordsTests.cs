using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;

namespace RunMonitor.Tests.Api;

/// The two engines' records sent as they serialize them (laid out on lines here), through a tenant's ingest key: omeercs's
/// TypeORM `Run` and `RunStep` entities (`JSON.stringify`: the base entity's `tenantId`, `createdAt`, `updatedAt`, its
/// row ids, nulls for what is not set) and Zos's pydantic `LayerRun` (`model_dump_json`: snake_case, metrics and usage
/// flat on the run). What carries something is stored; the bookkeeping that repeats what the store knows is checked.
public class EngineRecordsTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private readonly HttpClient _engine = factory.Bearer("alpha", "ingest");
    private readonly HttpClient _viewer = factory.Bearer("alpha", "viewer");

    private static string OmeercsRun(string id, string tenant = "alpha") => $$"""
        {"tenantId":"{{tenant}}","createdAt":"2026-11-21T11:49:58.120Z","updatedAt":"2026-11-21T11:51:33.410Z","id":"{{id}}",
         "workflowName":"campaign_generation","workflowVersion":"2.3.0","triggerType":"initial","triggerPayload":{"campaignId":"cmp_1"},
         "status":"failed","baseRunId":null,
         "error":{"code":"STEP_FAILED","message":"Step bgm_track failed","failedStepId":"bgm_track","timestamp":"2026-11-21T11:51:33.400Z"},
         "context":null,"startedAt":"2026-11-21T11:50:00.000Z","completedAt":"2026-11-21T11:51:33.000Z","durationMs":93120}
        """;

    private static string OmeercsStep(string runId, string tenant = "alpha") => $$"""
        {"tenantId":"{{tenant}}","createdAt":"2026-11-21T11:50:00.010Z","updatedAt":"2026-11-21T11:50:32.020Z",
         "id":"9b2d7c1e-4f0a-4c3b-8e55-0a7d5e2f9c40","runId":"{{runId}}","stepId":"bgm_track","skillId":"audio.bgm","status":"failed",
         "inputHash":"sha256:77b1","attempt":2,"outputArtifactIds":null,
         "error":{"code":"PROVIDER_TIMEOUT","message":"audio provider timed out","attempt":2,"timestamp":"2026-11-21T11:50:32.000Z",
                  "details":{"provider":"suno","timeoutMs":30000} },
         "startedAt":"2026-11-21T11:50:02.000Z","endedAt":"2026-11-21T11:50:32.000Z","durationMs":30000,"cacheHit":false}
        """;

    /// The same run as the engine saves it when it starts: running, no end, no error.
    private static string OmeercsRunStillRunning(string id) => OmeercsRun(id).Replace("\"status\":\"failed\"", "\"status\":\"running\"")
            .Replace("\"completedAt\":\"2026-11-21T11:51:33.000Z\",\"durationMs\":93120", "\"completedAt\":null,\"durationMs\":null")
            .Replace("\"error\":{\"code\":\"STEP_FAILED\",\"message\":\"Step bgm_track failed\",\"failedStepId\":\"bgm_track\",\"timestamp\":\"2026-11-21T11:51:33.400Z\"}", "\"error\":null");

    /// The step entity's error, as `OmeercsStep` lays it out (the raw string's lines lose its closing quotes' indent).
    private const string StepError = "\"error\":{\"code\":\"PROVIDER_TIMEOUT\",\"message\":\"audio provider timed out\",\"attempt\":2,\"timestamp\":\"2026-11-21T11:50:32.000Z\",\n          \"details\":{\"provider\":\"suno\",\"timeoutMs\":30000} }";

    private static string ZosLayerRun(string id) => $$"""
        {"id":"{{id}}","layer_name":"nightly-user-reflection","layer_hash":"abc123",
         "started_at":"2026-11-21T03:00:00.123456Z","completed_at":"2026-11-21T03:05:12.654321Z","status":"partial",
         "targets_matched":10,"targets_processed":8,"targets_skipped":2,"insights_created":6,
         "model_profile":"moderate","model_provider":"anthropic","model_name":"claude-sonnet-4-20250514",
         "tokens_input":8000,"tokens_output":4000,"tokens_total":12000,"estimated_cost_usd":0.036,
         "errors":[{"topic":"server:123:user:456","error":"Timeout","node":"llm_call"}]}
        """;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<JsonNode> ProblemAsync(HttpResponseMessage response) => response.ProblemAsync();

    [Fact]
    public async Task Create_OmeercsRunEntity_StoredWithTheEnginesDuration()
    {
        var response = await _engine.PostAsync("/api/runs", Json(OmeercsRun("5f0c6a9e-3a57-4a6e-9a51-7d2f4b1f0c11")));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = await _viewer.GetJsonAsync("/api/runs/5f0c6a9e-3a57-4a6e-9a51-7d2f4b1f0c11");
        Assert.Equal("alpha", (string?)run["tenantId"]);
        Assert.Equal("failed", (string?)run["status"]);
        Assert.Equal("2.3.0", (string?)run["workflowVersion"]);
        Assert.Equal("STEP_FAILED", (string?)run["error"]!["code"]);
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T11:49:58.120Z"), (DateTimeOffset)run["createdAt"]!);
        // The engine's 93,120 ms, not the 93,000 between its two times.
        Assert.Equal(93_120, (long)run["durationMs"]!);
        var modal = await _viewer.GetDocumentAsync("/ui/runs/5f0c6a9e-3a57-4a6e-9a51-7d2f4b1f0c11");
        Assert.Equal("1m 33s", modal.QuerySelectorAll(".metric-row").Single(r => r.QuerySelector(".metric-label").Text() == "Duration").Children.Last().Text());
    }

    [Fact]
    public async Task Create_OmeercsRunWithItsCampaignsNameInThePayload_NamedAndFoundByIt()
    {
        // omeercs names no run: its campaign's name is in the trigger payload, as its manifest step reads it.
        var named = OmeercsRun("omeercs-campaign").Replace("\"triggerPayload\":{\"campaignId\":\"cmp_1\"}",
            "\"triggerPayload\":{\"campaign_id\":\"cmp_1\",\"campaign_name\":\"Summer Splash Quest\"}");
        var disguised = OmeercsRun("omeercs-disguised").Replace("\"triggerPayload\":{\"campaignId\":\"cmp_1\"}",
            "\"triggerPayload\":{\"campaign_name\":\"Summer\\u202Egpj.exe\"}");
        Assert.NotEqual(OmeercsRun("omeercs-campaign"), named);
        Assert.NotEqual(OmeercsRun("omeercs-disguised"), disguised);

        Assert.Equal(HttpStatusCode.Created, (await _engine.PostAsync("/api/runs", Json(named))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _engine.PostAsync("/api/runs", Json(disguised))).StatusCode);
        await _engine.PostAsync("/api/runs", Json("""{"id":"own-name","workflowName":"w","name":"Own name","triggerPayload":{"campaign_name":"Other"}}"""));

        Assert.Equal("Summer Splash Quest", (string?)(await _viewer.GetJsonAsync("/api/runs/omeercs-campaign"))["name"]);
        Assert.Null((await _viewer.GetJsonAsync("/api/runs/omeercs-disguised"))["name"]);
        Assert.Equal("Own name", (string?)(await _viewer.GetJsonAsync("/api/runs/own-name"))["name"]);
        var found = (await _viewer.GetJsonAsync("/api/runs?q=Summer%20Splash"))["items"]!.AsArray();
        Assert.Equal(["omeercs-campaign"], found.Select(r => (string?)r!["id"]));
        var table = await _viewer.GetDocumentAsync("/ui/runs/list?q=Summer%20Splash");
        Assert.Equal("Summer Splash Quest", table.QuerySelector("table.runs-table .run-name")!.TextContent);
    }

    [Fact]
    public async Task PutStep_OmeercsRunStepEntity_StoredAndItsBookkeepingNotRefused()
    {
        const string id = "0d6c2a7b-9e41-4c1f-8a0e-3b5f7d9c1e22";
        await _engine.PostAsync("/api/runs", Json(OmeercsRun(id)));

        var response = await _engine.PutAsync($"/api/runs/{id}/steps/bgm_track", Json(OmeercsStep(id)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var step = (await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray().Single()!;
        Assert.Equal("bgm_track", (string?)step["stepId"]);
        Assert.Equal("failed", (string?)step["status"]);
        Assert.Equal(30_000, (long)step["durationMs"]!);
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T11:50:32Z"), (DateTimeOffset)step["completedAt"]!);
        Assert.Equal("suno", (string?)step["error"]!["details"]!["provider"]);
    }

    [Theory]
    [InlineData("runId", "\"runId\":\"another-run\"", "is 'another-run' but the URL names run")]
    [InlineData("tenantId", "\"tenantId\":\"beta\"", "is 'beta' but run")]
    [InlineData("updatedAt", "\"updatedAt\":\"yesterday\"", "must be an ISO-8601 date-time")]
    public async Task PutStep_OmeercsStepThatDisagrees_400NamingTheFieldAndNothingWritten(string field, string replacement, string message)
    {
        var id = $"disagree-{field}";
        await _engine.PostAsync("/api/runs", Json(OmeercsRun(id)));
        var body = OmeercsStep(id)
            .Replace($"\"runId\":\"{id}\"", field == "runId" ? replacement : $"\"runId\":\"{id}\"")
            .Replace("\"tenantId\":\"alpha\"", field == "tenantId" ? replacement : "\"tenantId\":\"alpha\"")
            .Replace("\"updatedAt\":\"2026-11-21T11:50:32.020Z\"", field == "updatedAt" ? replacement : "\"updatedAt\":\"2026-11-21T11:50:32.020Z\"");

        var problem = await ProblemAsync(await _engine.PutAsync($"/api/runs/{id}/steps/bgm_track", Json(body)));

        Assert.StartsWith(message, (string?)problem["errors"]![field]![0]);
        Assert.Empty((await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray());
    }

    [Fact]
    public async Task Batch_OmeercsEntitiesAsLines_Applied()
    {
        const string id = "7a1e5c3d-2b4f-4d6e-9c8a-1f0e3d5b7a99";
        var lines = string.Join('\n',
            "{\"type\":\"run\"," + OmeercsRun(id).Trim().ReplaceLineEndings("")[1..],
            "{\"type\":\"step\"," + OmeercsStep(id).Trim().ReplaceLineEndings("")[1..]);

        var response = await _engine.PostAsync("/api/ingest", new StringContent(lines, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await _viewer.GetJsonAsync($"/api/runs/{id}");
        Assert.Equal(93_120, (long)run["durationMs"]!);
        Assert.Equal(1, (long)run["stepsTotal"]!);
        Assert.Equal("PROVIDER_TIMEOUT", (string?)(await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray().Single()!["error"]!["code"]);
    }

    [Fact]
    public async Task Create_OmeercsRunOfAnotherTenant_403AndNotStored()
    {
        var response = await _engine.PostAsync("/api/runs", Json(OmeercsRun("elsewhere-1", tenant: "beta")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await factory.Bearer("beta", "viewer").GetAsync("/api/runs/elsewhere-1")).StatusCode);
    }

    [Fact]
    public async Task Batch_OmeercsRunOfAnotherTenant_403NamingTenantIdAndNothingApplied()
    {
        var line = "{\"type\":\"run\"," + OmeercsRun("elsewhere-2", tenant: "beta").Trim().ReplaceLineEndings("")[1..];

        var response = await _engine.PostAsync("/api/ingest", new StringContent(line, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("tenantId", (string?)problem["field"]);
        Assert.Equal(1, (int)problem["line"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await factory.Bearer("beta", "viewer").GetAsync("/api/runs/elsewhere-2")).StatusCode);
    }

    [Fact]
    public async Task Patch_OmeercsEntitySentWholeAgain_AppliesItsChanges()
    {
        const string id = "3c9e1b7a-5d2f-4a8e-b6c4-8f1a0e2d4c66";
        var running = OmeercsRunStillRunning(id);
        Assert.Equal(HttpStatusCode.Created, (await _engine.PostAsync("/api/runs", Json(running))).StatusCode);

        // The same entity as the engine saves it at the end, its payload's keys and spaces as JSON.stringify left them.
        var response = await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRun(id).Replace("{\"campaignId\":\"cmp_1\"}", "{ \"campaignId\": \"cmp_1\" }")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await _viewer.GetJsonAsync($"/api/runs/{id}");
        Assert.Equal("failed", (string?)run["status"]);
        Assert.Equal(93_120, (long)run["durationMs"]!);
        Assert.Equal("STEP_FAILED", (string?)run["error"]!["code"]);
    }

    /// An older omeercs `Run` loaded with its `steps` relation (`OneToMany('RunStep', 'run')`, dropped from the entity
    /// later): its RunStep entities in `steps`, in the order the engine planned them.
    private static string OmeercsRunWithSteps(string id, string run, string bgmStep) =>
        run.TrimEnd().TrimEnd('}') + ",\"steps\":[" + string.Join(',',
            OmeercsStep(id).Replace("\"stepId\":\"bgm_track\",\"skillId\":\"audio.bgm\",\"status\":\"failed\"", "\"stepId\":\"game_config\",\"skillId\":\"config.generate\",\"status\":\"completed\"")
                .Replace(StepError, "\"error\":null")
                .Replace("\"id\":\"9b2d7c1e-4f0a-4c3b-8e55-0a7d5e2f9c40\"", "\"id\":\"1c3e5a7b-9d0f-4e2a-8c4b-6d8f0a2c4e11\""),
            bgmStep,
            $$"""{"tenantId":"alpha","id":"2d4f6b8c-0e1a-4f3b-9d5c-7e9a1b3d5f22","runId":"{{id}}","stepId":"bundle_game","skillId":"bundle.zip","status":"pending","inputHash":"sha256:0","attempt":1,"outputArtifactIds":null,"error":null,"startedAt":null,"endedAt":null,"durationMs":null,"cacheHit":false}""")
        + "]}";

    [Fact]
    public async Task Create_OlderOmeercsRunWithItsStepsRelation_PlansEachStepAndStoresItAsReported()
    {
        const string id = "6b8d0f2a-4c6e-4a8b-9d1f-3e5a7c9e1b44";

        var response = await _engine.PostAsync("/api/runs", Json(OmeercsRunWithSteps(id, OmeercsRun(id), OmeercsStep(id))));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(3, (long)answer["stepsTotal"]!);
        Assert.Equal(1, (long)answer["stepsCompleted"]!);
        var steps = (await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray();
        Assert.Equal(["game_config", "bgm_track", "bundle_game"], steps.Select(s => (string)s!["stepId"]!));
        Assert.Equal(["completed", "failed", "pending"], steps.Select(s => (string)s!["status"]!));
        Assert.Null(steps[0]!["error"]);
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T11:50:32Z"), (DateTimeOffset)steps[1]!["completedAt"]!);
        Assert.Equal("PROVIDER_TIMEOUT", (string?)steps[1]!["error"]!["code"]);
        Assert.Equal("sha256:77b1", (string?)steps[1]!["inputHash"]);
        Assert.Equal(2, (long)steps[1]!["attempt"]!);
        var run = await _viewer.GetJsonAsync($"/api/runs/{id}");
        Assert.Equal(93_120, (long)run["durationMs"]!);
        Assert.Equal(1, (long)run["stepsCompleted"]!);
        var page = await _viewer.GetDocumentAsync($"/runs/{id}");
        Assert.Equal("PROVIDER_TIMEOUT", page.QuerySelector(".step-panel[data-step-id='bgm_track'] .error-code").Text());
    }

    public static TheoryData<string, string, string, string> BadStepsInARecord => new()
    {
        // Refused as it is read: nothing is written.
        { "\"endedAt\":\"2026-11-21T11:50:32.000Z\"", "\"endedAt\":\"soon\"", "steps[1].endedAt", "must be an ISO-8601 date-time" },
        { "\"runId\":\"{id}\",\"stepId\":\"bgm_track\"", "\"runId\":\"another-run\",\"stepId\":\"bgm_track\"", "steps[1].runId", "is 'another-run' but the record names run 'bad-step-runId'" },
        { "\"cacheHit\":false}", "\"cacheHit\":false,\"retries\":3}", "steps[1].retries", "is not a known field" },
        // Refused as it is written, after the run and the step before it: both are undone.
        { "\"tenantId\":\"alpha\",\"createdAt\":\"2026-11-21T11:50:00.010Z\"", "\"tenantId\":\"beta\",\"createdAt\":\"2026-11-21T11:50:00.010Z\"", "steps[1].tenantId", "is 'beta' but run 'bad-step-tenantId' belongs to tenant 'alpha'" },
        { "\"startedAt\":\"2026-11-21T11:50:02.000Z\",\"endedAt\":\"2026-11-21T11:50:32.000Z\"", "\"startedAt\":\"2999-01-01T00:00:00.000Z\",\"endedAt\":null", "steps[1].startedAt", "is more than a day ahead of the server's clock" },
    };

    [Theory]
    [MemberData(nameof(BadStepsInARecord))]
    public async Task Create_RecordWithABadStep_400NamingItsPlaceAndNothingStored(string was, string now, string field, string message)
    {
        var id = "bad-step-" + field.Split('.')[1];
        var bgm = OmeercsStep(id).Replace(was.Replace("{id}", id), now);
        Assert.NotEqual(OmeercsStep(id), bgm);

        var response = await _engine.PostAsync("/api/runs", Json(OmeercsRunWithSteps(id, OmeercsRun(id), bgm)));

        var problem = await ProblemAsync(response);
        Assert.True(problem["errors"]?[field] is not null, problem.ToJsonString());
        Assert.StartsWith(message, (string?)problem["errors"]![field]![0]);
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync($"/api/runs/{id}")).StatusCode);
    }

    [Fact]
    public async Task Create_StepRecordNamingARunWhenTheRunHasNoId_400()
    {
        var body = """{"workflowName":"campaign_generation","steps":[{"runId":"r1","stepId":"s1","status":"completed"}]}""";

        var problem = await ProblemAsync(await _engine.PostAsync("/api/runs", Json(body)));

        Assert.StartsWith("is 'r1' but the run is given no id", (string?)problem["errors"]!["steps[0].runId"]![0]);
    }

    [Fact]
    public async Task Create_RefusedIdRepeatedByItsStepRecord_400NamesTheIdOnly()
    {
        // The id is given but refused: the step that repeats it is not told the run has none.
        var body = """{"id":"bad id!","workflowName":"campaign_generation","steps":[{"runId":"bad id!","stepId":"s1","status":"completed"}]}""";

        var problem = await ProblemAsync(await _engine.PostAsync("/api/runs", Json(body)));

        Assert.NotNull(problem["errors"]!["id"]);
        Assert.Null(problem["errors"]!["steps[0].runId"]);
    }

    [Fact]
    public async Task Create_StepRecordWithABadSkillId_400SaysSoOnce()
    {
        var body = """{"workflowName":"campaign_generation","steps":[{"stepId":"s1","skillId":"audio\u0007bgm","status":"completed"}]}""";

        var problem = await ProblemAsync(await _engine.PostAsync("/api/runs", Json(body)));

        Assert.Single(problem["errors"]!["steps[0].skillId"]!.AsArray());
    }

    [Fact]
    public async Task Create_StepsOfIdsOnly_PlannedPendingAsBefore()
    {
        var response = await _engine.PostAsync("/api/runs", Json("""{"id":"plain-steps","workflowName":"wf","steps":[{"stepId":"a","skillId":"x"},{"stepId":"b"}]}"""));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var steps = (await _viewer.GetJsonAsync("/api/runs/plain-steps/steps")).AsArray();
        Assert.Equal(["pending", "pending"], steps.Select(s => (string)s!["status"]!));
        Assert.Equal(["a", "b"], steps.Select(s => (string)s!["stepId"]!));
    }

    [Fact]
    public async Task Patch_OlderOmeercsEntityWithSteps_ReportsEachStepAndTheRun()
    {
        const string id = "7c9e1a3b-5d7f-4b9c-8e2a-4f6b8d0a2c55";
        var running = OmeercsRunStillRunning(id);
        var planned = OmeercsStep(id).Replace("\"status\":\"failed\"", "\"status\":\"pending\"").Replace("\"attempt\":2", "\"attempt\":1")
            .Replace(StepError, "\"error\":null")
            .Replace("\"startedAt\":\"2026-11-21T11:50:02.000Z\",\"endedAt\":\"2026-11-21T11:50:32.000Z\",\"durationMs\":30000", "\"startedAt\":null,\"endedAt\":null,\"durationMs\":null");
        Assert.Equal(HttpStatusCode.Created, (await _engine.PostAsync("/api/runs", Json(OmeercsRunWithSteps(id, running, planned)))).StatusCode);
        Assert.Equal("pending", (string?)(await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray()[1]!["status"]);

        // The same entity at the run's end, its steps as the engine left them.
        var response = await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRunWithSteps(id, OmeercsRun(id), OmeercsStep(id))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("failed", (string?)answer["status"]);
        Assert.Equal(1, (long)answer["stepsCompleted"]!);
        var steps = (await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray();
        Assert.Equal(["game_config", "bgm_track", "bundle_game"], steps.Select(s => (string)s!["stepId"]!));
        Assert.Equal(["completed", "failed", "pending"], steps.Select(s => (string)s!["status"]!));
        Assert.Equal("suno", (string?)steps[1]!["error"]!["details"]!["provider"]);
    }

    [Fact]
    public async Task Patch_EntityWithARefusedStep_400AndNeitherTheRunNorItsOtherStepsChanged()
    {
        const string id = "8d0f2b4c-6e8a-4c0d-9f3b-5a7c9e1b3d66";
        await _engine.PostAsync("/api/runs", Json($$"""{"id":"{{id}}","workflowName":"campaign_generation","status":"running","steps":[{"stepId":"game_config"},{"stepId":"bgm_track"}]}"""));

        var response = await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRunWithSteps(id, OmeercsRun(id), OmeercsStep(id).Replace("\"tenantId\":\"alpha\"", "\"tenantId\":\"beta\""))));

        var problem = await ProblemAsync(response);
        Assert.StartsWith("is 'beta' but run", (string?)problem["errors"]!["steps[1].tenantId"]![0]);
        Assert.Equal("running", (string?)(await _viewer.GetJsonAsync($"/api/runs/{id}"))["status"]);
        Assert.Null((await _viewer.GetJsonAsync($"/api/runs/{id}"))["workflowVersion"]);
        Assert.Equal(["pending", "pending"], (await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray().Select(s => (string)s!["status"]!));
    }

    [Fact]
    public async Task Batch_RunLineWithItsSteps_AppliedAndARefusedStepNamesLineAndPlace()
    {
        const string id = "9e1a3c5d-7f9b-4d1e-8a4c-6b8d0f2a4e77";
        string Line(string run, string bgm) => "{\"type\":\"run\"," + OmeercsRunWithSteps(id, run, bgm).Trim().ReplaceLineEndings("")[1..];
        var bad = Line(OmeercsRun(id), OmeercsStep(id).Replace("\"tenantId\":\"alpha\"", "\"tenantId\":\"beta\""));

        var refused = await _engine.PostAsync("/api/ingest", new StringContent("{\"type\":\"run\",\"id\":\"batch-first\",\"workflowName\":\"wf\"}\n" + bad, Encoding.UTF8, "application/x-ndjson"));
        var applied = await _engine.PostAsync("/api/ingest", new StringContent(Line(OmeercsRun(id), OmeercsStep(id)), Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal(2, (int)problem["line"]!);
        Assert.Equal("steps[1].tenantId", (string?)problem["field"]);
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync("/api/runs/batch-first")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        Assert.Equal(["completed", "failed", "pending"], (await _viewer.GetJsonAsync($"/api/runs/{id}/steps")).AsArray().Select(s => (string)s!["status"]!));
    }

    [Theory]
    [InlineData("\"workflowVersion\":\"2.3.0\"", "\"workflowVersion\":\"2.4.0\"", "workflowVersion is '2.3.0' for this run, not '2.4.0'")]
    [InlineData("\"workflowName\":\"campaign_generation\"", "\"workflowName\":\"other\"", "workflowName is 'campaign_generation' for this run, not 'other'")]
    [InlineData("{\"campaignId\":\"cmp_1\"}", "{\"campaignId\":\"cmp_2\"}", "triggerPayload is not the one the run was created with")]
    [InlineData("\"tenantId\":\"alpha\"", "\"tenantId\":\"beta\"", "tenantId is 'alpha' for this run, not 'beta'")]
    public async Task Patch_OmeercsEntityThatChangesWhatTheRunWasCreatedWith_409AndNothingChanged(string was, string now, string reason)
    {
        var id = $"changed-{reason.Split(' ')[0]}";
        await _engine.PostAsync("/api/runs", Json(OmeercsRun(id).Replace("\"status\":\"failed\"", "\"status\":\"running\"")
            .Replace("\"completedAt\":\"2026-11-21T11:51:33.000Z\"", "\"completedAt\":null")));

        var response = await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRun(id).Replace(was, now)));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains(reason, (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]);
        Assert.Equal("running", (string?)(await _viewer.GetJsonAsync($"/api/runs/{id}"))["status"]);
    }

    [Fact]
    public async Task Patch_OmeercsEntityAfterAMinimalCreate_FillsWhatTheRunLackedAndKeepsItsDate()
    {
        const string id = "8e2f4a6c-1b3d-4f5a-9c7e-2d4b6f8a0c13";
        await _engine.PostAsync("/api/runs", Json($$"""{"id":"{{id}}","workflowName":"campaign_generation","status":"running"}"""));
        var created = await _viewer.GetJsonAsync($"/api/runs/{id}");

        var response = await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRun(id)));
        var again = await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRun(id).Replace("\"workflowVersion\":\"2.3.0\"", "\"workflowVersion\":\"2.4.0\"")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await _viewer.GetJsonAsync($"/api/runs/{id}");
        Assert.Equal("2.3.0", (string?)run["workflowVersion"]);
        Assert.Equal("initial", (string?)run["triggerType"]);
        Assert.Equal("cmp_1", (string?)run["triggerPayload"]!["campaignId"]);
        Assert.Equal("failed", (string?)run["status"]);
        // Its createdAt (the store's: it was created without one) is not the entity's to change.
        Assert.Equal((string?)created["createdAt"], (string?)run["createdAt"]);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("workflowVersion is '2.3.0' for this run, not '2.4.0'", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Patch_WholeRecordRefusedForItsStatus_FillsNothing()
    {
        const string id = "b4d6f8a0-2c4e-4a6b-8d0f-1e3a5c7e9b24";
        await _engine.PostAsync("/api/runs", Json($$"""{"id":"{{id}}","workflowName":"campaign_generation","status":"completed"}"""));

        var response = await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRun(id).Replace("\"status\":\"failed\"", "\"status\":\"running\"")));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Null((await _viewer.GetJsonAsync($"/api/runs/{id}"))["workflowVersion"]);
    }

    [Fact]
    public async Task Patch_WholeRecordWithATriggerTypeNoCreateTakes_400AndNothingFilled()
    {
        const string id = "c5e7a9b1-3d5f-4b7c-9e1a-2f4c6e8a0d35";
        await _engine.PostAsync("/api/runs", Json($$"""{"id":"{{id}}","workflowName":"campaign_generation","status":"running"}"""));

        var problem = await ProblemAsync(await _engine.PatchAsync($"/api/runs/{id}", Json(OmeercsRun(id).Replace("\"triggerType\":\"initial\"", "\"triggerType\":\"bogus\""))));

        Assert.Equal("must be initial or update", (string?)problem["errors"]!["triggerType"]![0]);
        Assert.Null((await _viewer.GetJsonAsync($"/api/runs/{id}"))["triggerType"]);
    }

    [Fact]
    public async Task Patch_RecordNamingAnotherRun_400NamingId()
    {
        await _engine.PostAsync("/api/runs", Json("""{"id":"zos-named","layer_name":"l","status":"running"}"""));

        var problem = await ProblemAsync(await _engine.PatchAsync("/api/runs/zos-named", Json("""{"id":"zos-other","layer_name":"l","status":"success"}""")));

        Assert.StartsWith("is 'zos-other' but the URL names run 'zos-named'", (string?)problem["errors"]!["id"]![0]);
    }

    [Fact]
    public async Task Patch_ZosRowSentWholeAgain_Applied()
    {
        var row = ZosLayerRun("01JDX3Q5W8M2C7RZK4T9B6N1PB");
        await _engine.PostAsync("/api/runs", Json(row.Replace("\"status\":\"partial\"", "\"status\":\"running\"")
            .Replace("\"completed_at\":\"2026-11-21T03:05:12.654321Z\"", "\"completed_at\":null")));

        var response = await _engine.PatchAsync("/api/runs/01JDX3Q5W8M2C7RZK4T9B6N1PB", Json(row));
        var renamed = await _engine.PatchAsync("/api/runs/01JDX3Q5W8M2C7RZK4T9B6N1PB", Json(row.Replace("\"layer_hash\":\"abc123\"", "\"layer_hash\":\"zzz999\"")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("partial", (string?)(await _viewer.GetJsonAsync("/api/runs/01JDX3Q5W8M2C7RZK4T9B6N1PB"))["status"]);
        Assert.Equal(HttpStatusCode.Conflict, renamed.StatusCode);
        Assert.Contains("layer_hash is 'abc123' for this run, not 'zzz999'", await renamed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Patch_EnginesDuration_KeptUntilTheTimesChange()
    {
        await _engine.PostAsync("/api/runs", Json("""{"id":"dur-kept","workflowName":"w","status":"running","startedAt":"2026-11-21T11:00:00Z"}"""));

        await _engine.PatchAsync("/api/runs/dur-kept", Json("""{"status":"completed","completedAt":"2026-11-21T11:00:10Z","durationMs":9500}"""));
        var kept = await _viewer.GetJsonAsync("/api/runs/dur-kept");
        await _engine.PatchAsync("/api/runs/dur-kept", Json("""{"context":{"note":"late"}}"""));
        var afterContext = await _viewer.GetJsonAsync("/api/runs/dur-kept");

        Assert.Equal(9_500, (long)kept["durationMs"]!);
        Assert.Equal(9_500, (long)afterContext["durationMs"]!);
    }

    [Fact]
    public async Task Create_ZosLayerRunAsDumped_StoredAndShown()
    {
        var response = await _engine.PostAsync("/api/runs", Json(ZosLayerRun("01JDX3Q5W8M2C7RZK4T9B6N1PA")));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = await _viewer.GetJsonAsync("/api/runs/01JDX3Q5W8M2C7RZK4T9B6N1PA");
        Assert.Equal("nightly-user-reflection", (string?)run["workflowName"]);
        Assert.Equal("abc123", (string?)run["layerHash"]);
        Assert.Equal("partial", (string?)run["status"]);
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T03:00:00.123Z"), (DateTimeOffset)run["startedAt"]!);
        Assert.Equal(312_531, (long)run["durationMs"]!);
        Assert.Equal(8, (long)run["metrics"]!["targetsProcessed"]!);
        Assert.Equal(2, (long)run["metrics"]!["targetsSkipped"]!);
        Assert.Equal("claude-sonnet-4-20250514", (string?)run["usage"]!["model"]);
        Assert.Equal(4000, (long)run["usage"]!["tokensOutput"]!);
        Assert.Equal(0.036, (double)run["usage"]!["costUsd"]!);
        Assert.Equal("llm_call", (string?)run["errors"]![0]!["node"]);
        var modal = await _viewer.GetDocumentAsync("/ui/runs/01JDX3Q5W8M2C7RZK4T9B6N1PA");
        var metrics = modal.QuerySelectorAll(".metric-row").ToDictionary(r => r.QuerySelector(".metric-label").Text(), r => r.Children.Last().Text());
        Assert.Equal(["10", "8", "2", "6", "8,000", "$0.0360"],
            new[] { "Targets matched", "Targets processed", "Targets skipped", "Insights created", "Input tokens", "Estimated cost" }.Select(l => metrics[l]));
        Assert.Equal("server:123:user:456", modal.QuerySelector(".errors-list .error-item .error-topic").Text());
    }

    /// What Zos's `LayerExecutor.execute_layer` inserts before the layer runs: `dry` as a placeholder, no end, nothing
    /// counted yet; it then updates the same row with the final one (`ZosLayerRun`).
    private static string ZosPlaceholder(string id) => $$"""
        {"id":"{{id}}","layer_name":"nightly-user-reflection","layer_hash":"abc123",
         "started_at":"2026-11-21T03:00:00.123456Z","completed_at":null,"status":"dry",
         "targets_matched":10,"targets_processed":0,"targets_skipped":0,"insights_created":0,
         "model_profile":"moderate","model_provider":null,"model_name":null,
         "tokens_input":null,"tokens_output":null,"tokens_total":null,"estimated_cost_usd":null,"errors":null}
        """;

    [Fact]
    public async Task Create_ZosPlaceholderThenItsFinalRow_RunningUntilTheFinalRowEndsIt()
    {
        var created = await _engine.PostAsync("/api/runs", Json(ZosPlaceholder("01JDX3Q5W8M2C7RZK4T9B6N1PC")));
        var placeholder = await _viewer.GetJsonAsync("/api/runs/01JDX3Q5W8M2C7RZK4T9B6N1PC");
        var finished = await _engine.PatchAsync("/api/runs/01JDX3Q5W8M2C7RZK4T9B6N1PC", Json(ZosLayerRun("01JDX3Q5W8M2C7RZK4T9B6N1PC")));
        var run = await _viewer.GetJsonAsync("/api/runs/01JDX3Q5W8M2C7RZK4T9B6N1PC");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("running", (string?)placeholder["status"]);
        Assert.False((bool)placeholder["dryRun"]!);
        Assert.Null(placeholder["completedAt"]);
        Assert.Null(placeholder["durationMs"]);
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Equal("partial", (string?)run["status"]);
        Assert.False((bool)run["dryRun"]!);
        Assert.Equal(312_531, (long)run["durationMs"]!);
        Assert.Equal(4000, (long)run["usage"]!["tokensOutput"]!);
        Assert.Equal("Timeout", (string?)run["errors"]![0]!["error"]);
    }

    [Fact]
    public async Task Patch_ZosPlaceholderAtZeroCostThenAFinalRowWithoutOne_CostEstimatedFromItsTokens()
    {
        // The placeholder as Zos may write it, $0 and no tokens yet; the final row has tokens and leaves the cost null.
        var placeholder = ZosPlaceholder("zos-zero-cost").Replace("\"estimated_cost_usd\":null", "\"estimated_cost_usd\":0");
        var final = ZosLayerRun("zos-zero-cost").Replace("\"estimated_cost_usd\":0.036", "\"estimated_cost_usd\":null");
        Assert.NotEqual(ZosPlaceholder("zos-zero-cost"), placeholder);
        Assert.NotEqual(ZosLayerRun("zos-zero-cost"), final);
        Assert.Equal(HttpStatusCode.Created, (await _engine.PostAsync("/api/runs", Json(placeholder))).StatusCode);

        var response = await _engine.PatchAsync("/api/runs/zos-zero-cost", Json(final));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var usage = (await _viewer.GetJsonAsync("/api/runs/zos-zero-cost"))["usage"]!;
        // claude-sonnet: 8,000 in at $3 and 4,000 out at $15 a million.
        Assert.Equal(0.084, (double)usage["costUsd"]!, 6);
        Assert.True((bool)usage["costEstimated"]!);
    }

    [Fact]
    public async Task Batch_ZosPlaceholderThenADryRunsFinalRow_EndsDry()
    {
        // A dry run (`dry_run=True`) ends `dry` too, with its end: then it is a finished dry run.
        var final = ZosLayerRun("zos-dry-run").Replace("\"status\":\"partial\"", "\"status\":\"dry\"");
        var lines = string.Join('\n',
            "{\"type\":\"run\"," + ZosPlaceholder("zos-dry-run").Trim().ReplaceLineEndings("")[1..],
            "{\"type\":\"update\"," + final.Trim().ReplaceLineEndings("")[1..]);
        Assert.NotEqual(ZosLayerRun("zos-dry-run"), final);

        var response = await _engine.PostAsync("/api/ingest", new StringContent(lines, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await _viewer.GetJsonAsync("/api/runs/zos-dry-run");
        Assert.Equal("dry", (string?)run["status"]);
        Assert.True((bool)run["dryRun"]!);
        Assert.Equal(312_531, (long)run["durationMs"]!);
    }

    [Fact]
    public async Task Patch_ZosPlaceholderForAFinishedRun_409SayingWhatItIs()
    {
        await _engine.PostAsync("/api/runs", Json(ZosLayerRun("zos-finished")));

        var response = await _engine.PatchAsync("/api/runs/zos-finished", Json(ZosPlaceholder("zos-finished")));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("Zos's placeholder row for a run under way, and run is partial", await response.Content.ReadAsStringAsync());
        Assert.Equal("partial", (string?)(await _viewer.GetJsonAsync("/api/runs/zos-finished"))["status"]);
    }

    [Fact]
    public async Task Create_DryWithoutAnEnd_AFinishedDryRunAsBefore()
    {
        // Only an end given as null says the run is under way; a `dry` that leaves the end out is a finished dry run.
        var response = await _engine.PostAsync("/api/runs", Json("""{"id":"dry-no-end","workflowName":"w","status":"dry","startedAt":"2026-11-21T03:00:00Z"}"""));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = await _viewer.GetJsonAsync("/api/runs/dry-no-end");
        Assert.Equal("dry", (string?)run["status"]);
        Assert.NotNull(run["completedAt"]);
    }

    [Fact]
    public async Task Create_ZosApiRunDetail_AcceptedItsDurationCheckedAgainstItsTimes()
    {
        // Zos's `GET /runs/{id}` answers the row with `duration_seconds` (completed_at - started_at) beside it; running, null.
        var finished = ZosLayerRun("zos-api-detail").Replace("\"status\":\"partial\",", "\"status\":\"partial\",\"duration_seconds\":312.530865,");
        var running = """{"id":"zos-api-running","layer_name":"l","layer_hash":"h","status":"running","started_at":"2026-11-21T10:00:00.000000Z","completed_at":null,"duration_seconds":null}""";
        Assert.NotEqual(ZosLayerRun("zos-api-detail"), finished);

        var created = await _engine.PostAsync("/api/runs", Json(finished));
        var started = await _engine.PostAsync("/api/runs", Json(running));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        Assert.Equal(312_531, (long)(await _viewer.GetJsonAsync("/api/runs/zos-api-detail"))["durationMs"]!);
    }

    [Fact]
    public async Task Patch_ZosColumns_UpdateTheRun()
    {
        await _engine.PostAsync("/api/runs", Json("""{"id":"zos-late","layer_name":"weekly-self-reflection","layer_hash":"def456","status":"running","started_at":"2026-11-21T10:00:00.000000Z"}"""));

        var response = await _engine.PatchAsync("/api/runs/zos-late", Json("""
            {"status":"success","completed_at":"2026-11-21T10:05:00.000000Z","targets_matched":1,"targets_processed":1,"targets_skipped":0,
             "insights_created":1,"model_profile":"complex","model_provider":"anthropic","model_name":"claude-opus-4-20250514",
             "tokens_input":5000,"tokens_output":2000,"tokens_total":7000,"estimated_cost_usd":0.15}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await _viewer.GetJsonAsync("/api/runs/zos-late");
        Assert.Equal("completed", (string?)run["status"]);
        Assert.Equal(300_000, (long)run["durationMs"]!);
        Assert.Equal(1, (long)run["metrics"]!["insightsCreated"]!);
        Assert.Equal("complex", (string?)run["usage"]!["profile"]);
        Assert.Equal(0.15, (double)run["usage"]!["costUsd"]!);
    }

    [Theory]
    [InlineData("""{"id":"zos-bad-1","layer_name":"l","tokens_input":8000,"tokens_output":4000,"tokens_total":12001}""", "tokens_total",
        "is 12,001 but tokens_input + tokens_output is 12,000")]
    [InlineData("""{"id":"zos-bad-2","layer_name":"l","tokens_total":12000}""", "tokens_total", "is kept as tokens_input + tokens_output")]
    [InlineData("""{"id":"zos-bad-3","layer_name":"l","targets_matched":10,"metrics":{"targetsMatched":10}}""", "targets_matched",
        "is another name for metrics.targetsMatched")]
    [InlineData("""{"id":"zos-bad-4","layer_name":"l","model_name":"m","usage":{"model":"m"}}""", "model_name", "is another name for usage.model")]
    [InlineData("""{"id":"zos-bad-5","layer_name":"l","workflowName":"l"}""", "layer_name", "is another name for workflowName")]
    [InlineData("""{"id":"zos-bad-6","layer_name":"l","started_at":"2026-11-21T10:00:00Z","startedAt":"2026-11-21T10:00:00Z"}""", "started_at",
        "is another name for startedAt")]
    [InlineData("""{"id":"zos-bad-7","layer_name":"l","started_at":"2026-11-21T10:00:00Z","completed_at":"2026-11-21T09:00:00Z"}""", "completed_at",
        "must not be before startedAt")]
    [InlineData("""{"id":"zos-bad-8","layer_name":"l","targets_skipped":-1}""", "targets_skipped", "must be a whole number")]
    [InlineData("""{"id":"zos-bad-9","layer_name":"l","duration_seconds":30}""", "duration_seconds", "is kept as completed_at - started_at")]
    [InlineData("""{"id":"zos-bad-10","layer_name":"l","started_at":"2026-11-21T10:00:00Z","completed_at":"2026-11-21T10:05:00Z","duration_seconds":30}""",
        "duration_seconds", "is 30 but completed_at - started_at is 300 s")]
    [InlineData("""{"id":"zos-bad-11","layer_name":"l","duration_seconds":"300"}""", "duration_seconds", "must be a number of seconds")]
    public async Task Create_ZosRecordThatContradictsItself_400NamingTheColumnAndNothingStored(string body, string field, string message)
    {
        var problem = await ProblemAsync(await _engine.PostAsync("/api/runs", Json(body)));

        Assert.StartsWith(message, (string?)problem["errors"]![field]![0]);
        var id = JsonNode.Parse(body)!["id"]!.ToString();
        Assert.Equal(HttpStatusCode.NotFound, (await _viewer.GetAsync($"/api/runs/{id}")).StatusCode);
    }
}

public sealed class EngineRecordsTestsOnPostgres(PostgresKeyedFactory factory) : EngineRecordsTests(factory), IClassFixture<PostgresKeyedFactory>;
