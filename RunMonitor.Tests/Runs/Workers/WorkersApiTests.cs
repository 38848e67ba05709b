using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Runs.Workers;

/// SPEC "Workers" through HTTP: heartbeats, claims and leased writes as heartbeats (at most one write per worker per
/// few seconds), active/idle/stale on the fixture's clock, the 24-hour horizon, roles, tenants and every bad input.
/// Each test uses workers and workflows of its own; the class shares one clock, so a test moves it only forward.
public class WorkersApiTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private HttpClient Ingest(string tenant = "alpha") => factory.Bearer(tenant, Roles.Ingest);

    private static async Task<JsonElement> HeartbeatAsync(HttpClient client, string name, object? body = null)
    {
        var response = body is null
            ? await client.PostAsync($"/api/workers/{Uri.EscapeDataString(name)}/heartbeat", null)
            : await client.PostAsJsonAsync($"/api/workers/{Uri.EscapeDataString(name)}/heartbeat", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"heartbeat answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<JsonElement?> WorkerAsync(HttpClient client, string name)
    {
        var list = await client.GetJsonAsync("/api/workers");
        var found = list.AsArray().FirstOrDefault(w => (string)w!["name"]! == name);
        return found is null ? null : JsonDocument.Parse(found.ToJsonString()).RootElement.Clone();
    }

    private async Task<JsonElement> ClaimAsync(HttpClient client, string worker, string workflow, int leaseSeconds = 60)
    {
        var response = await client.PostAsJsonAsync("/api/queue/claim", new { worker, workflows = new[] { workflow }, leaseSeconds });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    private static async Task<JsonElement> Problem(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.JsonAsync();
    }

    [Fact]
    public async Task Heartbeat_Ingest_ListedIdleWithWhatItSaid()
    {
        var beat = await HeartbeatAsync(Ingest(), "hb-idle", new { workflows = new[] { "wf-a", "wf-b" }, host = "box-1", version = "2.0.1" });

        Assert.Equal("hb-idle", beat.GetProperty("name").GetString());
        var worker = (await WorkerAsync(factory.Bearer("alpha", Roles.Viewer), "hb-idle"))!.Value;
        Assert.Equal("alpha", worker.GetProperty("tenantId").GetString());
        Assert.Equal(WorkerStatus.Idle, worker.GetProperty("status").GetString());
        Assert.Equal(factory.Clock.GetUtcNow(), worker.GetProperty("lastSeenAt").GetDateTimeOffset());
        Assert.Equal(["wf-a", "wf-b"], worker.GetProperty("workflows").EnumerateArray().Select(w => w.GetString()!).ToArray());
        Assert.Equal("box-1", worker.GetProperty("host").GetString());
        Assert.Equal("2.0.1", worker.GetProperty("version").GetString());
        Assert.Equal(0, worker.GetProperty("runsHeld").GetArrayLength());
        Assert.Equal(0, worker.GetProperty("claimed24h").GetInt64());
        Assert.Equal(0, worker.GetProperty("failed24h").GetInt64());
    }

    [Fact]
    public async Task Heartbeat_EmptyBody_KeepsWhatTheWorkerSaidBefore()
    {
        await HeartbeatAsync(Ingest(), "hb-keep", new { host = "box-2", version = "1" });
        factory.Clock.Advance(TimeSpan.FromSeconds(1));

        await HeartbeatAsync(Ingest(), "hb-keep");

        var worker = (await WorkerAsync(Ingest(), "hb-keep"))!.Value;
        Assert.Equal("box-2", worker.GetProperty("host").GetString());
        Assert.Equal(factory.Clock.GetUtcNow(), worker.GetProperty("lastSeenAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task List_IsTenantScoped_SuperAdminSeesEveryTenant()
    {
        await HeartbeatAsync(Ingest("alpha"), "hb-scope");
        await HeartbeatAsync(Ingest("beta"), "hb-scope-beta");

        Assert.NotNull(await WorkerAsync(factory.Bearer("alpha", Roles.Viewer), "hb-scope"));
        Assert.Null(await WorkerAsync(factory.Bearer("beta", Roles.Viewer), "hb-scope"));
        Assert.Null(await WorkerAsync(factory.Bearer("alpha", Roles.Viewer), "hb-scope-beta"));
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);
        Assert.Equal("alpha", (await WorkerAsync(admin, "hb-scope"))!.Value.GetProperty("tenantId").GetString());
        Assert.Equal("beta", (await WorkerAsync(admin, "hb-scope-beta"))!.Value.GetProperty("tenantId").GetString());
        var betaOnly = await admin.GetJsonAsync("/api/workers?tenant=beta");
        Assert.All(betaOnly.AsArray(), w => Assert.Equal("beta", (string)w!["tenantId"]!));
    }

    [Theory]
    [InlineData(Roles.Viewer, HttpStatusCode.Forbidden)]
    [InlineData(Roles.Operator, HttpStatusCode.Forbidden)]
    [InlineData(Roles.Ingest, HttpStatusCode.OK)]
    [InlineData(Roles.Admin, HttpStatusCode.OK)]
    public async Task Heartbeat_ByRole(string role, HttpStatusCode expected)
    {
        var response = await factory.Bearer("alpha", role).PostAsJsonAsync("/api/workers/hb-role/heartbeat", new { });

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task List_WithoutKey_401()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.Anonymous().GetAsync("/api/workers")).StatusCode);
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("[]", "body")]
    [InlineData("\"x\"", "body")]
    [InlineData("{\"workflows\": \"wf\"}", "workflows")]
    [InlineData("{\"workflows\": [1]}", "workflows")]
    [InlineData("{\"host\": 5}", "host")]
    [InlineData("{\"version\": {}}", "version")]
    [InlineData("{\"cpu\": 3}", "cpu")]
    public async Task Heartbeat_MalformedBody_400NamingTheField(string body, string field)
    {
        var response = await Ingest().PostAsync("/api/workers/hb-bad/heartbeat", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await Problem(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Null(await WorkerAsync(Ingest(), "hb-bad"));
    }

    [Fact]
    public async Task Heartbeat_LongFields_400()
    {
        var response = await Ingest().PostAsJsonAsync("/api/workers/hb-long/heartbeat", new { host = new string('h', 201) });

        var problem = await Problem(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("host", out _));
    }

    [Theory]
    [InlineData(300)]
    [InlineData(201)]
    public async Task Heartbeat_NameOver200Characters_400NamingName(int length)
    {
        var response = await Ingest().PostAsJsonAsync($"/api/workers/{new string('w', length)}/heartbeat", new { });

        var problem = await Problem(response);
        Assert.Contains("1-200 characters", problem.GetProperty("errors").GetProperty("name")[0].GetString());
    }

    /// A name of spaces only (the claim refused it; the heartbeat's path listed a worker named " ").
    [Theory]
    [InlineData(" ")]
    [InlineData("   ")]
    public async Task Heartbeat_NameOfSpacesOnly_400NamingName(string name)
    {
        var beat = await Problem(await Ingest().PostAsJsonAsync($"/api/workers/{Uri.EscapeDataString(name)}/heartbeat", new { }));

        Assert.True(beat.GetProperty("errors").TryGetProperty("name", out _));
        Assert.Null(await WorkerAsync(Ingest(), name));
    }

    /// A name that reads as another (a right-to-left override, a zero-width space) or holds a control character is
    /// refused alike in the heartbeat's path and in a claim's `worker` (the path took U+202E the claim refused).
    [Theory]
    [InlineData("w\u202Ex")]
    [InlineData("w\u200Bx")]
    [InlineData("w\u001Bx")]
    public async Task Heartbeat_And_Claim_DisguisedOrControlName_400(string name)
    {
        var beat = await Problem(await Ingest().PostAsJsonAsync($"/api/workers/{Uri.EscapeDataString(name)}/heartbeat", new { }));
        var claim = await Problem(await Ingest().PostAsJsonAsync("/api/queue/claim", new { worker = name }));

        Assert.Contains("invisible formatting characters", beat.GetProperty("errors").GetProperty("name")[0].GetString());
        Assert.Contains("invisible formatting characters", claim.GetProperty("errors").GetProperty("worker")[0].GetString());
        Assert.Null(await WorkerAsync(Ingest(), name));
    }

    [Fact]
    public async Task Heartbeat_Name200Characters_Accepted()
    {
        var name = new string('n', 200);

        await HeartbeatAsync(Ingest(), name);

        Assert.NotNull(await WorkerAsync(Ingest(), name));
    }

    [Theory]
    [InlineData("/api/workers?status=idle", "status")]
    [InlineData("/api/workers?tenant=beta", "tenant")]
    public async Task List_BadParameter_400(string url, string name)
    {
        var problem = await Problem(await factory.Bearer("alpha", Roles.Viewer).GetAsync(url));

        Assert.True(problem.GetProperty("errors").TryGetProperty(name, out _));
    }

    [Fact]
    public async Task List_TenantThenAnUnknownParameter_400NamingTheUnknown()
    {
        var problem = await Problem(await factory.Bearer(KeyedFactory.SuperAdminKey).GetAsync("/api/workers?tenant=beta&status=idle"));

        Assert.Equal(["status"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task List_SeveralBadParameters_400NamingEach()
    {
        var problem = await Problem(await factory.Bearer("alpha", Roles.Viewer).GetAsync("/api/workers?status=idle&tenant=beta&since=1h"));

        Assert.Equal(["status", "tenant", "since"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Fact]
    public async Task Claim_CountsAsHeartbeatAndClaim_WorkerActiveHoldingTheRun()
    {
        var client = Ingest();
        var run = (await client.CreateRunAsync(new { workflowName = "wf-claimed" })).GetProperty("id").GetString()!;

        await ClaimAsync(client, "claimer-1", "wf-claimed");

        var worker = (await WorkerAsync(client, "claimer-1"))!.Value;
        Assert.Equal(WorkerStatus.Active, worker.GetProperty("status").GetString());
        Assert.Equal([run], worker.GetProperty("runsHeld").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.Equal(1, worker.GetProperty("claimed24h").GetInt64());
        Assert.Equal(factory.Clock.GetUtcNow(), worker.GetProperty("lastSeenAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task LeasedWrites_AreHeartbeats_AtMostOneWritePerWorkerPerFiveSeconds()
    {
        var client = Ingest();
        var run = (await client.CreateRunAsync(new { workflowName = "wf-leased" })).GetProperty("id").GetString()!;
        await ClaimAsync(client, "leased-1", "wf-leased", leaseSeconds: 120);
        var claimedAt = factory.Clock.GetUtcNow();

        // Inside the first five seconds after the claim's own write, steps and patches write no heartbeat.
        factory.Clock.Advance(TimeSpan.FromSeconds(3));
        await client.PutAsJsonAsync($"/api/runs/{run}/steps/s1", new { status = "running" });
        await client.PatchJsonAsync($"/api/runs/{run}", new { metrics = new { targetsMatched = 3 } });
        var quiet = (await WorkerAsync(client, "leased-1"))!.Value.GetProperty("lastSeenAt").GetDateTimeOffset();
        // Past them, the next write for the run is one.
        factory.Clock.Advance(TimeSpan.FromSeconds(50));
        await client.PutAsJsonAsync($"/api/runs/{run}/steps/s1", new { status = "completed" });
        var seen = (await WorkerAsync(client, "leased-1"))!.Value;

        Assert.Equal(claimedAt, quiet);
        Assert.Equal(claimedAt + TimeSpan.FromSeconds(53), seen.GetProperty("lastSeenAt").GetDateTimeOffset());
        Assert.Equal(WorkerStatus.Active, seen.GetProperty("status").GetString());
    }

    [Fact]
    public async Task LogsAndArtifacts_ForALeasedRun_AreHeartbeatsToo()
    {
        var client = Ingest();
        var run = (await client.CreateRunAsync(new { workflowName = "wf-logged", steps = new[] { new { stepId = "s1" } } })).GetProperty("id").GetString()!;
        await ClaimAsync(client, "logger-1", "wf-logged", leaseSeconds: 120);
        var claimedAt = factory.Clock.GetUtcNow();

        factory.Clock.Advance(TimeSpan.FromSeconds(50));
        var logged = await client.PostAsJsonAsync($"/api/runs/{run}/logs", new[] { new { message = "still working" } });
        var afterLogs = (await WorkerAsync(client, "logger-1"))!.Value.GetProperty("lastSeenAt").GetDateTimeOffset();
        factory.Clock.Advance(TimeSpan.FromSeconds(50));
        var uploaded = await client.PostAsync($"/api/runs/{run}/steps/s1/artifacts?name=out.txt", new StringContent("bytes"));
        var afterUpload = (await WorkerAsync(client, "logger-1"))!.Value;

        Assert.Equal(HttpStatusCode.Accepted, logged.StatusCode);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        Assert.Equal(claimedAt + TimeSpan.FromSeconds(50), afterLogs);
        Assert.Equal(claimedAt + TimeSpan.FromSeconds(100), afterUpload.GetProperty("lastSeenAt").GetDateTimeOffset());
        Assert.Equal(WorkerStatus.Active, afterUpload.GetProperty("status").GetString());
    }

    [Fact]
    public async Task EmptyClaim_IsAHeartbeat_APollingWorkerIsIdle_AtMostOneWritePerFiveSeconds()
    {
        var client = Ingest();
        async Task PollAsync() =>
            Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/queue/claim", new { worker = "poller-1", workflows = new[] { "wf-nothing-queued" } })).StatusCode);

        await PollAsync();
        var first = (await WorkerAsync(client, "poller-1"))!.Value;
        factory.Clock.Advance(TimeSpan.FromSeconds(3));
        await PollAsync();
        var quiet = (await WorkerAsync(client, "poller-1"))!.Value.GetProperty("lastSeenAt").GetDateTimeOffset();
        factory.Clock.Advance(TimeSpan.FromSeconds(70));
        await PollAsync();
        var later = (await WorkerAsync(client, "poller-1"))!.Value;

        Assert.Equal(WorkerStatus.Idle, first.GetProperty("status").GetString());
        Assert.Equal(0, first.GetProperty("claimed24h").GetInt64());
        Assert.Equal(first.GetProperty("lastSeenAt").GetDateTimeOffset(), quiet);
        Assert.Equal(quiet + TimeSpan.FromSeconds(73), later.GetProperty("lastSeenAt").GetDateTimeOffset());
        Assert.Equal(WorkerStatus.Idle, later.GetProperty("status").GetString());
    }

    [Fact]
    public async Task EmptyClaim_OfASuperAdmin_SeesTheWorkersRowsOfItsRunsTenants_AndMakesNoRowOfItsOwn()
    {
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);
        async Task PollAsync() =>
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync("/api/queue/claim", new { worker = "fleet-1", workflows = new[] { "wf-fleet" } })).StatusCode);

        await PollAsync();
        Assert.Null(await WorkerAsync(admin, "fleet-1"));
        await Ingest("beta").CreateRunAsync(new { workflowName = "wf-fleet", status = "queued" });
        var claimed = await admin.PostAsJsonAsync("/api/queue/claim", new { worker = "fleet-1", workflows = new[] { "wf-fleet" } });
        var claimedAt = factory.Clock.GetUtcNow();
        await Ingest("beta").PatchJsonAsync($"/api/runs/{(await claimed.JsonAsync()).GetProperty("id").GetString()}", new { status = "completed" });
        factory.Clock.Advance(TimeSpan.FromSeconds(70));
        await PollAsync();

        var rows = (await admin.GetJsonAsync("/api/workers")).AsArray().Where(w => (string)w!["name"]! == "fleet-1").ToList();
        Assert.Equal(["beta"], rows.Select(w => (string)w!["tenantId"]!));
        Assert.Equal(claimedAt + TimeSpan.FromSeconds(70), rows[0]!["lastSeenAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(WorkerStatus.Idle, (string)rows[0]!["status"]!);
    }

    [Fact]
    public async Task LeasedRunFails_CountsAFailureOfItsWorker_WhichIsIdleAfter()
    {
        var client = Ingest();
        var run = (await client.CreateRunAsync(new { workflowName = "wf-failing" })).GetProperty("id").GetString()!;
        await ClaimAsync(client, "failer-1", "wf-failing");

        var patched = await client.PatchJsonAsync($"/api/runs/{run}", new { status = "failed", error = new { message = "boom" } });

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var worker = (await WorkerAsync(client, "failer-1"))!.Value;
        Assert.Equal(1, worker.GetProperty("failed24h").GetInt64());
        Assert.Equal(1, worker.GetProperty("claimed24h").GetInt64());
        Assert.Equal(WorkerStatus.Idle, worker.GetProperty("status").GetString());
        Assert.Equal(0, worker.GetProperty("runsHeld").GetArrayLength());
    }

    [Fact]
    public async Task NoHeartbeatFor60Seconds_Stale_AndTheLeaseExpiryIsNoHeartbeatButAFailure()
    {
        var client = Ingest();
        var run = (await client.CreateRunAsync(new { workflowName = "wf-vanish" })).GetProperty("id").GetString()!;
        await ClaimAsync(client, "vanisher-1", "wf-vanish", leaseSeconds: 30);
        await HeartbeatAsync(Ingest(), "steady-1");

        factory.Clock.Advance(TimeSpan.FromSeconds(59));
        var before = (await WorkerAsync(client, "vanisher-1"))!.Value;
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        var after = (await WorkerAsync(client, "vanisher-1"))!.Value;
        var expired = await factory.Services.GetRequiredService<RunQueue>().ExpireLeasesAsync();
        var swept = (await WorkerAsync(client, "vanisher-1"))!.Value;

        Assert.Equal(WorkerStatus.Active, before.GetProperty("status").GetString());
        Assert.Equal(WorkerStatus.Stale, after.GetProperty("status").GetString());
        Assert.Equal([run], after.GetProperty("runsHeld").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.Contains(expired, r => r.Id == run);
        Assert.Equal(WorkerStatus.Stale, swept.GetProperty("status").GetString());
        Assert.Equal(after.GetProperty("lastSeenAt").GetDateTimeOffset(), swept.GetProperty("lastSeenAt").GetDateTimeOffset());
        Assert.Equal(1, swept.GetProperty("failed24h").GetInt64());
        Assert.Equal(WorkerStatus.Stale, (await WorkerAsync(client, "steady-1"))!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task UnseenFor24Hours_LeavesTheList()
    {
        await HeartbeatAsync(Ingest(), "hb-forgotten");

        factory.Clock.Advance(TimeSpan.FromHours(23.9));
        var kept = await WorkerAsync(Ingest(), "hb-forgotten");
        factory.Clock.Advance(TimeSpan.FromHours(0.2));
        var gone = await WorkerAsync(Ingest(), "hb-forgotten");
        await factory.Services.GetRequiredService<WorkerBook>().PruneAsync();

        Assert.Equal(WorkerStatus.Stale, kept!.Value.GetProperty("status").GetString());
        Assert.Null(gone);
        Assert.Null(await WorkerAsync(Ingest(), "hb-forgotten"));
    }
}

public sealed class WorkersApiTestsOnPostgres(PostgresKeyedFactory factory) : WorkersApiTests(factory), IClassFixture<PostgresKeyedFactory>;

/// A worker's name in the heartbeat's path, as Kestrel hands it on (TestServer gives no request target): `/` must be
/// escaped in a path (`%2F`), and a name with `%2F` in it escapes its `%` (`%252F`). Two workers, as a claim's body
/// names them.
public sealed class WorkerNamesInPathTests
{
    [Fact]
    public async Task Heartbeat_NamesWithASlashOrAPercentSign_EachTheWorkerItNames()
    {
        await using var factory = new RunMonitorFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        var address = factory.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        var slash = await client.PostAsync("/api/workers/pool%2F7/heartbeat", null);
        var percent = await client.PostAsync("/api/workers/pool%252F7/heartbeat", null);
        var claim = await client.PostAsJsonAsync("/api/queue/claim", new { worker = "pool/7", workflows = new[] { "wf-none" } });

        Assert.Equal("pool/7", (await slash.JsonAsync()).GetProperty("name").GetString());
        Assert.Equal("pool%2F7", (await percent.JsonAsync()).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.NoContent, claim.StatusCode);
        var names = (await client.GetJsonAsync("/api/workers")).AsArray().Select(w => (string)w!["name"]!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["pool%2F7", "pool/7"], names);
    }
}
