using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Api;

/// The ingest and read API as an engine and a script use it.
public class RunsApiTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.JsonAsync();
    }

    [Fact]
    public async Task Create_BySuperAdminWithAnotherTenantsId_LocationNamesItsTenantAndAnswers()
    {
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/runs", new { id = "shared-loc", tenantId = "acme", workflowName = "w" })).StatusCode);

        var second = await _client.PostAsJsonAsync("/api/runs", new { id = "shared-loc", tenantId = "globex", workflowName = "w" });

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("/api/runs/shared-loc?tenant=globex", second.Headers.Location?.OriginalString);
        var run = await _client.GetJsonAsync(second.Headers.Location!.OriginalString);
        Assert.Equal("globex", (string?)run["tenantId"]);
    }

    [Fact]
    public async Task Create_WithBackfill_Answers201WithLocationAndStoresTimes()
    {
        var response = await _client.PostAsJsonAsync("/api/runs", new
        {
            id = "backfill-1", workflowName = "campaign_generation", name = "Black Friday", status = "completed",
            createdAt = "2026-11-20T10:00:00Z", startedAt = "2026-11-20T10:00:05Z", completedAt = "2026-11-20T10:03:10.500Z",
            triggerPayload = new { campaignId = "cmp_1", nested = new[] { 1, 2 } },
            steps = new object[] { new { stepId = "game_config", skillId = "config.generate" }, new { stepId = "manifest" } },
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/runs/backfill-1", response.Headers.Location?.OriginalString);
        var run = await _client.GetJsonAsync("/api/runs/backfill-1");
        Assert.Equal("completed", (string?)run["status"]);
        Assert.Equal("default", (string?)run["tenantId"]);
        Assert.Equal(185_500, (long?)run["durationMs"]);
        Assert.Equal("cmp_1", (string?)run["triggerPayload"]!["campaignId"]);
        Assert.Equal(2, (long?)run["stepsTotal"]);
        Assert.Equal(0, (long?)run["stepsCompleted"]);
        Assert.Equal(DateTimeOffset.Parse("2026-11-20T10:00:00Z"), DateTimeOffset.Parse((string)run["createdAt"]!));
        foreach (var field in new[] { "id", "tenantId", "workflowName", "name", "status", "dryRun", "triggerPayload", "context", "error", "errors", "metrics", "usage", "layerHash", "retryOf", "cancelRequested", "leaseOwner", "leaseExpiresAt", "createdAt", "startedAt", "completedAt", "durationMs", "stepsTotal", "stepsCompleted" })
            Assert.True(run.AsObject().ContainsKey(field), $"run JSON lacks {field}");
    }

    [Theory]
    [InlineData("2026-11-20T10:00:05Z", "2026-11-20T10:03:10Z", "2026-11-20T10:00:05.000Z")]
    [InlineData(null, "2026-11-20T10:03:10Z", "2026-11-20T10:03:10.000Z")]
    // Python's str(datetime) and SQL's text form: a space for the T, microseconds (kept to the millisecond), an offset.
    [InlineData("2026-11-20 10:00:05.123456", "2026-11-20 10:03:10.5+00:00", "2026-11-20T10:00:05.123Z")]
    // Go's RFC3339Nano: nine digits of a second.
    [InlineData("2026-11-20T10:00:05.123456789Z", "2026-11-20T12:03:10.999999999+02:00", "2026-11-20T10:00:05.123Z")]
    // RFC 3339 lets the T and the Z be lower case.
    [InlineData("2026-11-20t10:00:05z", "2026-11-20t10:03:10.5+00:00", "2026-11-20T10:00:05.000Z")]
    public async Task Create_BackfillWithoutCreatedAt_IsDatedByItsStart(string? startedAt, string completedAt, string created)
    {
        var response = await _client.PostAsJsonAsync("/api/runs", new { workflowName = "late-report", status = "completed", startedAt, completedAt });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = await response.JsonAsync();
        Assert.Equal(DateTimeOffset.Parse(created, System.Globalization.CultureInfo.InvariantCulture), run.GetProperty("createdAt").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "completedAt")]
    [InlineData("0001-01-01T00:00:00Z", null, "startedAt")]
    public async Task Create_RunLastingMoreThan31Years_400NamingTheTimeAndNotStored(string? startedAt, string? completedAt, string field)
    {
        var id = $"ages-{field}-{startedAt is null}-{completedAt is null}";
        var response = await _client.PostAsJsonAsync("/api/runs", new { id, workflowName = "ages", status = "completed", startedAt, completedAt,
            createdAt = "2026-11-20T00:00:00Z" });

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("makes the run last more than 31 years", problem.GetProperty("errors").GetProperty(field)[0].GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/runs/{id}")).StatusCode);
    }

    [Fact]
    public async Task Writes_ThirtyYearsAccepted_AndAnEndInYear9999Refused()
    {
        await _client.CreateRunAsync(new { id = "decades", workflowName = "ages", status = "running", startedAt = "1996-11-20T00:00:00Z",
            steps = new[] { new { stepId = "s" } } });

        var patch = await _client.PatchJsonAsync("/api/runs/decades", new { status = "completed", completedAt = "9999-01-01T00:00:00Z" });
        var step = await _client.PutAsJsonAsync("/api/runs/decades/steps/s", new { startedAt = "2026-11-20T00:00:00Z", endedAt = "9999-01-01T00:00:00Z" });
        var done = await _client.PatchJsonAsync("/api/runs/decades", new { status = "completed", completedAt = "2026-11-20T00:00:00Z" });

        Assert.StartsWith("makes the run last more than 31 years", (await Problem(patch, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("completedAt")[0].GetString());
        Assert.StartsWith("makes the step last more than 31 years", (await Problem(step, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("endedAt")[0].GetString());
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var run = await _client.GetJsonAsync("/api/runs/decades");
        Assert.Equal((long)(DateTimeOffset.Parse("2026-11-20T00:00:00Z") - DateTimeOffset.Parse("1996-11-20T00:00:00Z")).TotalMilliseconds, (long)run["durationMs"]!);
        Assert.Null((await _client.GetJsonAsync("/api/runs/decades/steps")).AsArray().Single()!["completedAt"]);
    }

    [Theory]
    [InlineData("queued")]
    [InlineData("running")]
    public async Task Create_EndOfARunNotEnded_400NamingCompletedAtAndNotStored(string status)
    {
        var id = $"unended-{status}";
        var response = await _client.PostAsJsonAsync("/api/runs", new { id, workflowName = "unended", status, completedAt = "2026-01-01T00:00:00Z" });

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.StartsWith($"is for a run that has ended, and this one is {status}", problem.GetProperty("errors").GetProperty("completedAt")[0].GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/runs/{id}")).StatusCode);
    }

    [Fact]
    public async Task Patch_EndOfARunStillRunning_400AndTheRunEndsAtItsRealEnd()
    {
        await _client.CreateRunAsync(new { id = "unended-patch", workflowName = "unended", status = "running", startedAt = "2026-11-21T11:00:00Z" });

        var early = await _client.PatchJsonAsync("/api/runs/unended-patch", new { completedAt = "2026-01-01T00:00:00Z" });
        var done = await _client.PatchJsonAsync("/api/runs/unended-patch", new { status = "completed" });

        Assert.Equal("completedAt", (await Problem(early, HttpStatusCode.BadRequest)).GetProperty("errors").EnumerateObject().Single().Name);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal(factory.Clock.GetUtcNow(), (await done.JsonAsync()).GetProperty("completedAt").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("createdAt")]
    [InlineData("startedAt")]
    [InlineData("completedAt")]
    public async Task Create_TimeMoreThanADayAheadOfTheServer_400NamingItAndNotStored(string field)
    {
        var id = $"ahead-{field}";
        var ahead = factory.Clock.GetUtcNow().AddDays(1).AddMinutes(1).ToString("O");
        var body = new Dictionary<string, object> { ["id"] = id, ["workflowName"] = "ahead", ["status"] = "completed", [field] = ahead };

        var response = await _client.PostAsJsonAsync("/api/runs", body);

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("is more than a day ahead of the server's clock", problem.GetProperty("errors").GetProperty(field)[0].GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/runs/{id}")).StatusCode);
    }

    [Fact]
    public async Task Writes_ClockAFewHoursAhead_Accepted_AndAStepEndAYearAhead_400NamingIt()
    {
        var soon = factory.Clock.GetUtcNow().AddHours(3);
        await _client.CreateRunAsync(new { id = "ahead-ok", workflowName = "ahead", status = "running", startedAt = soon, steps = new[] { new { stepId = "s" } } });

        var step = await _client.PutAsJsonAsync("/api/runs/ahead-ok/steps/s", new { status = "completed", startedAt = soon, endedAt = soon.AddYears(1) });
        var done = await _client.PatchJsonAsync("/api/runs/ahead-ok", new { status = "completed", completedAt = soon.AddMinutes(5) });

        Assert.StartsWith("is more than a day ahead", (await Problem(step, HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("endedAt")[0].GetString());
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal(300_000, (await done.JsonAsync()).GetProperty("durationMs").GetInt64());
    }

    [Theory]
    [InlineData("/api/runs", HttpStatusCode.OK)]
    [InlineData("/api/runs/head-1", HttpStatusCode.OK)]
    [InlineData("/api/runs/head-1/steps", HttpStatusCode.OK)]
    [InlineData("/api/runs/head-1/activity", HttpStatusCode.OK)]
    [InlineData("/api/runs/head-1/logs.txt", HttpStatusCode.OK)]
    [InlineData("/api/workers", HttpStatusCode.OK)]
    [InlineData("/api/runs/no-such-run", HttpStatusCode.NotFound)]
    [InlineData("/api/runs?colour=red", HttpStatusCode.BadRequest)]
    public async Task Head_OnAnApiRead_AnswersAsItsGetWithoutABody(string url, HttpStatusCode expected)
    {
        if (await _client.GetAsync("/api/runs/head-1") is { StatusCode: HttpStatusCode.NotFound })
            await _client.CreateRunAsync(new { id = "head-1", workflowName = "head", steps = new[] { new { stepId = "s" } } });

        var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
        var get = await _client.GetAsync(url);

        Assert.Equal(expected, head.StatusCode);
        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("UTF-8")]
    [InlineData("\"utf-8\"")]
    [InlineData("utf8")]
    public async Task Create_JsonInUtf8_AnyWayItIsNamed_Created(string charset)
    {
        var content = new StringContent("{\"workflowName\":\"charset-ok\"}", System.Text.Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse($"application/json; charset={charset}");

        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsync("/api/runs", content)).StatusCode);
    }

    [Theory]
    [InlineData("utf-16", "/api/runs")]
    [InlineData("iso-8859-1", "/api/runs")]
    [InlineData("utf-16", "/api/bulk")]
    public async Task Write_JsonInAnotherCharset_415NamingIt(string charset, string url)
    {
        var encoding = System.Text.Encoding.GetEncoding(charset);
        var content = new ByteArrayContent(encoding.GetBytes("{\"workflowName\":\"charset-other\"}"));
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse($"application/json; charset={charset}");

        var problem = await Problem(await _client.PostAsync(url, content), HttpStatusCode.UnsupportedMediaType);

        Assert.Equal($"the body is said to be {charset}; send the body as application/json in UTF-8 (charset=utf-8, or no charset)",
            problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=json", "/api/runs")]
    [InlineData("application/x-www-form-urlencoded; x=json", "/api/queue/claim")]
    [InlineData("text/plain; charset=utf-8; json", "/api/ingest")]
    public async Task Write_JsonOnlyInAParameterOfTheType_415(string contentType, string url)
    {
        var content = new ByteArrayContent("{\"workflowName\":\"json-in-a-parameter\",\"worker\":\"w\"}"u8.ToArray());
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        await Problem(await _client.PostAsync(url, content), HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task CompletedBeforeStarted_Answers400NamingCompletedAt(string method)
    {
        var times = new { status = "completed", startedAt = "2026-01-02T00:00:00Z", completedAt = "2026-01-01T00:00:00Z" };
        var response = method == "POST"
            ? await _client.PostAsJsonAsync("/api/runs", new { workflowName = "ends-first", times.status, times.startedAt, times.completedAt })
            : await _client.PatchJsonAsync($"/api/runs/{(await _client.CreateRunAsync(new { workflowName = "ends-first" })).GetProperty("id").GetString()}", times);

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.Equal("must not be before startedAt", problem.GetProperty("errors").GetProperty("completedAt")[0].GetString());
    }

    [Fact]
    public async Task Create_StartedInTheFuture_IsCreatedNow()
    {
        var now = factory.Clock.GetUtcNow();
        var run = await _client.CreateRunAsync(new { workflowName = "skewed-clock", status = "running", startedAt = now.AddHours(1).ToString("O") });

        Assert.Equal(now, run.GetProperty("createdAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Create_FinishedWithoutStart_HasNoInventedDuration()
    {
        var run = await _client.CreateRunAsync(new { workflowName = "no-start", status = "completed" });

        Assert.Equal(JsonValueKind.Null, run.GetProperty("startedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, run.GetProperty("durationMs").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, run.GetProperty("completedAt").ValueKind);
    }

    [Fact]
    public async Task Create_DuplicateId_Answers409()
    {
        await _client.CreateRunAsync(new { id = "dup-1", workflowName = "wf" });

        var response = await _client.PostAsJsonAsync("/api/runs", new { id = "dup-1", workflowName = "wf" });

        var problem = await Problem(response, HttpStatusCode.Conflict);
        Assert.Contains("dup-1", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Create_WithStepsAndErrors_StoresThemAllWithTheRunAndItsActivity()
    {
        var id = (await _client.CreateRunAsync(new
        {
            workflowName = "one-write", status = "failed",
            errors = new object[] { new { topic = "fetch", error = "timeout", node = "n1" }, new { error = "layer failed" } },
            steps = new object[] { new { stepId = "plan", skillId = "planner" }, new { stepId = "act" }, new { stepId = "check", skillId = "judge" } },
        })).GetProperty("id").GetString();

        var run = await _client.GetJsonAsync($"/api/runs/{id}");
        var steps = await _client.GetJsonAsync($"/api/runs/{id}/steps");
        var activity = await _client.GetJsonAsync($"/api/runs/{id}/activity");

        Assert.Equal(3, (long?)run["stepsTotal"]);
        Assert.Equal(["plan", "act", "check"], steps.AsArray().Select(s => (string?)s!["stepId"]));
        Assert.Equal(["planner", null, "judge"], steps.AsArray().Select(s => (string?)s!["skillId"]));
        Assert.All(steps.AsArray(), s => Assert.Equal("pending", (string?)s!["status"]));
        Assert.Equal(["fetch", null], run["errors"]!.AsArray().Select(e => (string?)e!["topic"]));
        Assert.Equal(["timeout", "layer failed"], run["errors"]!.AsArray().Select(e => (string?)e!["error"]));
        Assert.Equal("n1", (string?)run["errors"]![0]!["node"]);
        var created = Assert.Single(activity.AsArray());
        Assert.Equal("created", (string?)created!["action"]);
        Assert.Equal("reported as failed", (string?)created["detail"]);
    }

    [Fact]
    public async Task Create_DuplicateId_WritesNothingOfTheSecondRequest()
    {
        await _client.CreateRunAsync(new { id = "dup-steps", workflowName = "wf", steps = new object[] { new { stepId = "first" } } });

        var response = await _client.PostAsJsonAsync("/api/runs", new
        {
            id = "dup-steps", workflowName = "other-wf", errors = new object[] { new { error = "x" } },
            steps = new object[] { new { stepId = "second" }, new { stepId = "third" } },
        });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var steps = await _client.GetJsonAsync("/api/runs/dup-steps/steps");
        Assert.Equal(["first"], steps.AsArray().Select(s => (string?)s!["stepId"]));
        Assert.Empty((await _client.GetJsonAsync("/api/runs/dup-steps"))["errors"]!.AsArray());
        Assert.Single((await _client.GetJsonAsync("/api/runs/dup-steps/activity")).AsArray());
        var workflows = (await _client.GetDocumentAsync("/ui/runs")).QuerySelectorAll("select[name=layer_name] option").Select(o => o.GetAttribute("value")).ToList();
        Assert.Contains("wf", workflows);
        Assert.DoesNotContain("other-wf", workflows);
    }

    [Fact]
    public async Task Create_BadFields_Answers400NamingEachField()
    {
        var response = await _client.PostAsJsonAsync("/api/runs", new
        {
            status = "exploded", dryRun = "yes", createdAt = "last tuesday", id = "has space",
            metrics = new { targetsMatched = -1 }, usage = new { costUsd = "free" }, colour = "red",
            steps = new object[] { new { skillId = "x" }, new { stepId = "a" }, new { stepId = "a" } },
        });

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "workflowName", "status", "dryRun", "createdAt", "id", "metrics.targetsMatched", "usage.costUsd", "colour", "steps[0].stepId", "steps[2].stepId" })
            Assert.True(errors.TryGetProperty(field, out _), $"errors lacks {field}: {errors}");
    }

    /// Sums over runs must stay exact and finite: a run of 2^63 tokens wrapped the admin's Tokens card to a negative
    /// number and a cost of 1e308 made the stats JSON an infinity (a 500). Each value past its bound is a 400.
    [Theory]
    [InlineData("""{"workflowName":"wf","usage":{"tokensInput":9223372036854775807}}""", "usage.tokensInput", "must be a whole number from 0 to 1,000,000,000,000")]
    [InlineData("""{"workflowName":"wf","usage":{"tokensOutput":1000000000001}}""", "usage.tokensOutput", "must be a whole number from 0 to 1,000,000,000,000")]
    [InlineData("""{"workflowName":"wf","usage":{"costUsd":1e308}}""", "usage.costUsd", "must be a number from 0 to 1,000,000,000 (US dollars)")]
    [InlineData("""{"workflowName":"wf","metrics":{"insightsCreated":9223372036854775807}}""", "metrics.insightsCreated", "must be a whole number from 0 to 1,000,000,000,000")]
    public async Task Create_CountOrCostPastItsBound_Answers400(string body, string field, string message)
    {
        var response = await _client.PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.Equal(message, problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    [Fact]
    public async Task Create_CountAndCostAtTheirBounds_AreStored()
    {
        var run = await _client.CreateRunAsync(new { workflowName = "wf-bounds", usage = new { tokensInput = 1_000_000_000_000, costUsd = 1_000_000_000.0 } });

        Assert.Equal(1_000_000_000_000, run.GetProperty("usage").GetProperty("tokensInput").GetInt64());
        Assert.Equal(1_000_000_000.0, run.GetProperty("usage").GetProperty("costUsd").GetDouble());
    }

    [Theory]
    [InlineData("list")]
    [InlineData("Stats")]
    [InlineData("export.csv")]
    public async Task Create_IdOfADashboardRoute_Answers400NamingId(string id)
    {
        var response = await _client.PostAsJsonAsync("/api/runs", new { id, workflowName = "wf" });

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.Contains("names a page of the dashboard", problem.GetProperty("errors").GetProperty("id")[0].GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/runs/{id}")).StatusCode);
    }

    [Theory]
    [InlineData("""{"workflowName":"wf-a","workflowName":"wf-b"}""", "workflowName")]
    [InlineData("""{"workflowName":"wf","usage":{"tokensInput":1,"tokensInput":2}}""", "usage.tokensInput")]
    public async Task Create_FieldGivenTwice_Answers400NamingIt(string body, string field)
    {
        var response = await _client.PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.Equal("is given more than once; give it once", problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2,3]")]
    [InlineData("")]
    public async Task Create_MalformedBody_Answers400(string body)
    {
        var response = await _client.PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("body", out _));
    }

    [Fact]
    public async Task Patch_Lifecycle_DerivesTimesDurationAndAcceptsSuccess()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "life" })).GetProperty("id").GetString();

        var running = await (await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "running" })).JsonAsync();
        factory.Clock.Advance(TimeSpan.FromSeconds(42));
        var done = await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "success", metrics = new { insightsCreated = 3 } });

        Assert.Equal("running", running.GetProperty("status").GetString());
        Assert.False(running.GetProperty("cancelRequested").GetBoolean());
        var run = await done.JsonAsync();
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal(42_000, run.GetProperty("durationMs").GetInt64());
        Assert.Equal(3, run.GetProperty("metrics").GetProperty("insightsCreated").GetInt64());
    }

    [Theory]
    [InlineData("completed", "running")]
    [InlineData("failed", "queued")]
    [InlineData("cancelled", "completed")]
    [InlineData("running", "queued")]
    public async Task Patch_LeavingTerminalOrGoingBack_Answers409(string from, string to)
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "guard", status = from })).GetProperty("id").GetString();

        var response = await _client.PatchJsonAsync($"/api/runs/{id}", new { status = to });

        await Problem(response, HttpStatusCode.Conflict);
        Assert.Equal(from, (string?)(await _client.GetJsonAsync($"/api/runs/{id}"))["status"]);
    }

    [Fact]
    public async Task Patch_TerminalRunSameStatus_UpdatesResults()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "late-metrics", status = "completed" })).GetProperty("id").GetString();

        var response = await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed", metrics = new { targetsProcessed = 9 } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(9, (await response.JsonAsync()).GetProperty("metrics").GetProperty("targetsProcessed").GetInt64());
    }

    [Fact]
    public async Task Patch_ErrorsList_Replaces()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "errs", errors = new[] { new { topic = "a", error = "1" }, new { topic = "b", error = "2" } } })).GetProperty("id").GetString();

        var run = await (await _client.PatchJsonAsync($"/api/runs/{id}", new { errors = new[] { new { topic = "c", error = "3", node = "n" } } })).JsonAsync();

        var errors = run.GetProperty("errors");
        Assert.Equal(1, errors.GetArrayLength());
        Assert.Equal("c", errors[0].GetProperty("topic").GetString());
        Assert.Equal("n", errors[0].GetProperty("node").GetString());
    }

    [Fact]
    public async Task Patch_MissingRun_Answers404Problem()
    {
        var response = await _client.PatchJsonAsync("/api/runs/nope", new { status = "running" });

        await Problem(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Usage_TokensWithoutCost_IsEstimatedAndMarked()
    {
        var run = await _client.CreateRunAsync(new { workflowName = "priced", usage = new { model = "gpt-4o-mini", tokensInput = 1_000_000, tokensOutput = 1_000_000 } });
        var unknown = await _client.CreateRunAsync(new { workflowName = "priced", usage = new { model = "home-made-llm", tokensInput = 10 } });
        var given = await _client.CreateRunAsync(new { workflowName = "priced", usage = new { model = "gpt-4o-mini", tokensInput = 10, costUsd = 0.5 } });

        Assert.Equal(0.75, run.GetProperty("usage").GetProperty("costUsd").GetDouble(), 6);
        Assert.True(run.GetProperty("usage").GetProperty("costEstimated").GetBoolean());
        Assert.Equal(JsonValueKind.Null, unknown.GetProperty("usage").GetProperty("costUsd").ValueKind);
        Assert.False(given.GetProperty("usage").GetProperty("costEstimated").GetBoolean());
        Assert.Equal(0.5, given.GetProperty("usage").GetProperty("costUsd").GetDouble());
    }

    [Fact]
    public async Task StepPut_Twice_LeavesOneStepAndCountsProgress()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "steps", steps = new[] { new { stepId = "a", skillId = "s.a" }, new { stepId = "b", skillId = "s.b" } } })).GetProperty("id").GetString();

        var first = await _client.PutAsJsonAsync($"/api/runs/{id}/steps/a", new { status = "completed", durationMs = 1200, output = new { ok = true } });
        var second = await _client.PutAsJsonAsync($"/api/runs/{id}/steps/a", new { status = "completed", durationMs = 1200, output = new { ok = true } });
        var extra = await _client.PutAsJsonAsync($"/api/runs/{id}/steps/c", new { status = "running" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False((await second.JsonAsync()).GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, extra.StatusCode);
        var steps = (await _client.GetJsonAsync($"/api/runs/{id}/steps")).AsArray();
        Assert.Equal(["a", "b", "c"], steps.Select(s => (string)s!["stepId"]!).ToArray());
        Assert.Equal(["completed", "pending", "running"], steps.Select(s => (string)s!["status"]!).ToArray());
        var run = await _client.GetJsonAsync($"/api/runs/{id}");
        Assert.Equal(3, (long?)run["stepsTotal"]);
        Assert.Equal(1, (long?)run["stepsCompleted"]);
    }

    [Fact]
    public async Task StepPut_BadFields_Answers400()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "steps-bad" })).GetProperty("id").GetString();

        var response = await _client.PutAsJsonAsync($"/api/runs/{id}/steps/a", new { status = "exploded", attempt = 0, cacheHit = "no" });
        var missing = await _client.PutAsJsonAsync("/api/runs/none/steps/a", new { status = "running" });

        var errors = (await Problem(response, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("status", out _));
        Assert.True(errors.TryGetProperty("attempt", out _));
        Assert.True(errors.TryGetProperty("cacheHit", out _));
        await Problem(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_FiltersAndShape()
    {
        for (var i = 0; i < 3; i++) await _client.CreateRunAsync(new { workflowName = "api-list", status = "failed" });
        await _client.CreateRunAsync(new { workflowName = "api-list", status = "completed" });

        var page = await _client.GetJsonAsync("/api/runs?workflow=api-list&status=failed&limit=2");
        var bad = await _client.GetAsync("/api/runs?limit=1000");

        Assert.Equal(3, (long?)page["total"]);
        Assert.Equal(2, page["items"]!.AsArray().Count);
        Assert.Equal(0, (int?)page["offset"]);
        Assert.Equal(2, (int?)page["limit"]);
        var problem = await Problem(bad, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
    }

    /// Each entry is the one a lone bad parameter answers, whose problem stays as it was (scripts read its detail).
    [Fact]
    public async Task List_SeveralBadParameters_EachEntryReadsAsWhenItIsAlone()
    {
        var all = (await Problem(await _client.GetAsync("/api/runs?limit=500&from=yesterday"), HttpStatusCode.BadRequest)).GetProperty("errors");
        var limit = await Problem(await _client.GetAsync("/api/runs?limit=500"), HttpStatusCode.BadRequest);
        var from = await Problem(await _client.GetAsync("/api/runs?from=yesterday"), HttpStatusCode.BadRequest);

        Assert.Equal("limit accepts a whole number from 1 to 100", limit.GetProperty("detail").GetString());
        Assert.Equal(limit.GetProperty("errors").GetProperty("limit").GetRawText(), all.GetProperty("limit").GetRawText());
        Assert.Equal(from.GetProperty("errors").GetProperty("from").GetRawText(), all.GetProperty("from").GetRawText());
    }

    [Theory]
    [InlineData("/api/runs?limit=500&from=yesterday&colour=red&offset=1&offset=2", new[] { "limit", "from", "colour", "offset" })]
    [InlineData("/api/runs?tenant=BAD!&sort=name&status=nope,failed", new[] { "tenant", "sort", "status" })]
    [InlineData("/api/admin/runs/stats?tenant=acme&period=1y", new[] { "tenant", "period" })]
    [InlineData("/api/runs/several-bad?zzz=1&tenant=BAD!&yyy=2", new[] { "zzz", "tenant", "yyy" })]
    [InlineData("/api/runs/several-bad/steps?zzz=1&yyy=2&yyy=3", new[] { "zzz", "yyy" })]
    public async Task Read_SeveralBadParameters_ProblemHasAnErrorsEntryEachInQueryOrder(string url, string[] parameters)
    {
        var problem = await Problem(await _client.GetAsync(url), HttpStatusCode.BadRequest);

        var errors = problem.GetProperty("errors").EnumerateObject().ToList();
        Assert.Equal(parameters, errors.Select(e => e.Name));
        Assert.Equal(string.Join("; ", errors.Select(e => $"{e.Name} {e.Value[0].GetString()}")), problem.GetProperty("detail").GetString());
    }

    /// An item of the list (and of the JSON export) says what the run's own answer says of every field they share:
    /// the model's profile and provider, the engines' version, trigger, base run and error code (each once answered
    /// null or left out, not read by the list).
    [Fact]
    public async Task List_ItemsCarryEveryFieldTheyShareWithTheRun()
    {
        var id = (await _client.CreateRunAsync(new
        {
            workflowName = "api-item-fields", status = "failed", workflowVersion = "4.1.0", triggerType = "update", baseRunId = "api-item-base",
            error = new { message = "boom", code = "STEP_FAILED" },
            usage = new { profile = "writer", provider = "openai", model = "gpt-4o", tokensInput = 100, tokensOutput = 20, costUsd = 0.5 },
        })).GetProperty("id").GetString()!;
        var run = await _client.GetJsonAsync($"/api/runs/{id}");

        var item = (await _client.GetJsonAsync("/api/runs?workflow=api-item-fields"))["items"]!.AsArray().Single()!;
        var exported = System.Text.Json.Nodes.JsonNode.Parse(await _client.GetStringAsync("/ui/runs/export.json?workflow=api-item-fields"))!["items"]!.AsArray().Single()!;

        foreach (var answer in new[] { item, exported })
        {
            Assert.Equal(run["usage"]!.ToJsonString(), answer["usage"]!.ToJsonString());
            Assert.Equal("writer", (string?)answer["usage"]!["profile"]);
            foreach (var field in new[] { "workflowVersion", "triggerType", "baseRunId" })
                Assert.Equal((string?)run[field], (string?)answer[field]);
            Assert.Equal("STEP_FAILED", (string?)answer["errorCode"]);
            Assert.Equal("boom", (string?)answer["errorMessage"]);
        }
        // The CSV export's row too, by its columns' names.
        var csv = (await _client.GetStringAsync("/ui/runs/export.csv?workflow=api-item-fields")).Split("\r\n");
        var cells = csv[0].Split(',').Zip(csv[1].Split(',')).ToDictionary(c => c.First, c => c.Second);
        Assert.Equal(("writer", "openai", "gpt-4o"), (cells["model_profile"], cells["model_provider"], cells["model"]));
        Assert.Equal(("4.1.0", "update", "api-item-base", "STEP_FAILED"), (cells["workflow_version"], cells["trigger_type"], cells["base_run_id"], cells["error_code"]));
    }

    [Fact]
    public async Task Get_MissingRun_Answers404Problem()
    {
        var response = await _client.GetAsync("/api/runs/missing-run");

        var problem = await Problem(response, HttpStatusCode.NotFound);
        Assert.Equal("Run not found", problem.GetProperty("title").GetString());
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class RunsApiTestsOnPostgres(PostgresFactory factory) : RunsApiTests(factory), IClassFixture<PostgresFactory>;
