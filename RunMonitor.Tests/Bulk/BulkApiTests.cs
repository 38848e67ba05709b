using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Bulk;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Bulk;

/// The keyed app with small batches, so an operation of a few dozen runs takes several.
public class BulkFactory : KeyedFactory
{
    public BulkFactory() : this(TestStore.Sqlite) { }

    protected BulkFactory(TestStore store) : base(store) { }

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["RunMonitor:Bulk:BatchSize"] = "7";
            settings["RunMonitor:Bulk:PauseMilliseconds"] = "0";
            return settings;
        }
    }
}

public sealed class PostgresBulkFactory() : BulkFactory(TestStore.Postgres);

/// Helpers the bulk suites share: runs made through the ingest API, operations started and waited for.
public static class BulkCalls
{
    /// A workflow name of the test's own, so counts never take another test's runs.
    public static string Workflow(string name) => $"bulk-{name}-{Guid.NewGuid().ToString("N")[..8]}";

    public static async Task<List<string>> RunsAsync(HttpClient ingest, string workflow, string status, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
            ids.Add((await ingest.CreateRunAsync(new { workflowName = workflow, status })).GetProperty("id").GetString()!);
        return ids;
    }

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, object body) => client.PostAsJsonAsync("/api/bulk", body);

    public static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string json) =>
        client.PostAsync("/api/bulk", new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<JsonElement> DryRunAsync(HttpClient client, object filter, string action = "retry")
    {
        var response = await PostAsync(client, new { action, filter, dryRun = true });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    public static async Task<long> StartAsync(HttpClient client, object body)
    {
        var response = await PostAsync(client, body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var json = await response.JsonAsync();
        var id = json.GetProperty("id").GetInt64();
        Assert.Equal($"/api/bulk/{id}", response.Headers.Location?.OriginalString);
        return id;
    }

    public static async Task<JsonElement> WaitAsync(HttpClient client, long id, int seconds = 30, Func<JsonElement, bool>? until = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var operation = await (await client.GetAsync($"/api/bulk/{id}")).JsonAsync();
            if ((until ?? (o => o.GetProperty("status").GetString() != "running"))(operation) || DateTime.UtcNow > deadline) return operation;
            await Task.Delay(100);
        }
    }

    /// How many runs name `id` as the run they retry.
    public static async Task<long> RetriesOfAsync(IServiceProvider services, string id)
    {
        await using var connection = await services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE retry_of = @Id", new { Id = id });
    }
}

/// `/api/bulk` (SPEC "Bulk operations"): counting, starting, following and stopping operations; every bad input of the
/// issue; roles and tenants. Each test works on a workflow of its own.
public class BulkApiTests(BulkFactory factory) : IClassFixture<BulkFactory>
{
    private HttpClient Ingest => factory.Bearer("alpha", Roles.Ingest);
    private HttpClient Operator => factory.Bearer("alpha", Roles.Operator);

    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task DryRun_Filter_CountsMatchedAndEligible_WritesNothing()
    {
        var workflow = BulkCalls.Workflow("dry");
        await BulkCalls.RunsAsync(Ingest, workflow, "failed", 4);
        await BulkCalls.RunsAsync(Ingest, workflow, "completed", 3);
        await BulkCalls.RunsAsync(Ingest, workflow, "queued", 2);

        var retry = await BulkCalls.DryRunAsync(Operator, new { workflow });
        var cancel = await BulkCalls.DryRunAsync(Operator, new { layer_name = workflow }, "cancel");
        var failedOnly = await BulkCalls.DryRunAsync(Operator, new { workflow, status = new[] { "failed", "completed" } });

        Assert.Equal(9, retry.GetProperty("matched").GetInt64());
        Assert.Equal(4, retry.GetProperty("eligible").GetInt64());
        Assert.Equal(2, cancel.GetProperty("eligible").GetInt64());
        Assert.Equal(7, failedOnly.GetProperty("matched").GetInt64());
        Assert.Equal(["matched", "eligible"], retry.EnumerateObject().Select(p => p.Name));
        Assert.Equal(9, (await factory.Bearer("alpha", Roles.Viewer).GetJsonAsync($"/api/runs?workflow={workflow}"))["total"]!.GetValue<long>());
    }

    [Fact]
    public async Task Retry_Filter_EveryFailedRunRetriedOnce_TheRetriesNotSweptIn_ActivitySaysBulk()
    {
        var workflow = BulkCalls.Workflow("retry");
        var failed = await BulkCalls.RunsAsync(Ingest, workflow, "failed", 20);
        await BulkCalls.RunsAsync(Ingest, workflow, "completed", 2);
        var dry = await BulkCalls.DryRunAsync(Operator, new { workflow });

        var response = await BulkCalls.PostAsync(Operator, new { action = "retry", filter = new { workflow }, expectedCount = dry.GetProperty("eligible").GetInt64() });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var started = await response.JsonAsync();
        Assert.Equal(["id", "action", "status", "matched", "eligible"], started.EnumerateObject().Select(p => p.Name));
        Assert.Equal("retry", started.GetProperty("action").GetString());
        Assert.Equal(22, started.GetProperty("matched").GetInt64());
        Assert.Equal(20, started.GetProperty("eligible").GetInt64());
        var id = started.GetProperty("id").GetInt64();
        var done = await BulkCalls.WaitAsync(Operator, id);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(20, done.GetProperty("done").GetInt64());
        Assert.Equal(20, done.GetProperty("succeeded").GetInt64());
        Assert.Equal(0, done.GetProperty("skipped").GetInt64());
        Assert.Equal(0, done.GetProperty("failed").GetInt64());
        Assert.Empty(done.GetProperty("errors").EnumerateArray());
        Assert.StartsWith("key ", done.GetProperty("createdBy").GetString());
        Assert.NotEqual(JsonValueKind.Null, done.GetProperty("completedAt").ValueKind);
        foreach (var run in failed) Assert.Equal(1, await BulkCalls.RetriesOfAsync(factory.Services, run));
        var queued = (await Operator.GetJsonAsync($"/api/runs?workflow={workflow}&status=queued&limit=100"))["items"]!.AsArray();
        Assert.Equal(20, queued.Count);
        var activity = (await Operator.GetJsonAsync($"/api/runs/{failed[0]}/activity")).AsArray();
        Assert.Contains(activity, a => (string)a!["action"]! == "bulk" && ((string)a["detail"]!).Contains($"operation {id}"));
        Assert.Contains(activity, a => (string)a!["action"]! == "retried" && ((string)a["detail"]!).Contains($"bulk operation {id}"));
        // The filter matches the retries now, but a retry applies to finished runs, and the failed ones have their retry:
        // the same operation again would retry nothing.
        var after = await BulkCalls.DryRunAsync(Operator, new { workflow });
        Assert.Equal(42, after.GetProperty("matched").GetInt64());
        Assert.Equal(0, after.GetProperty("eligible").GetInt64());
    }

    [Fact]
    public async Task RetryFromFailedStep_OnlyRunsWithAFailedStep_AreEligible()
    {
        var workflow = BulkCalls.Workflow("fromstep");
        var withStep = (await Ingest.CreateRunAsync(new
        {
            workflowName = workflow, status = "running", steps = new[] { new { stepId = "a", skillId = "s" }, new { stepId = "b", skillId = "s" } },
        })).GetProperty("id").GetString()!;
        await Ingest.PutAsJsonAsync($"/api/runs/{withStep}/steps/a", new { status = "completed" });
        await Ingest.PutAsJsonAsync($"/api/runs/{withStep}/steps/b", new { status = "failed", error = new { message = "x" } });
        await Ingest.PatchJsonAsync($"/api/runs/{withStep}", new { status = "failed" });
        await BulkCalls.RunsAsync(Ingest, workflow, "failed", 1);

        var dry = await BulkCalls.DryRunAsync(Operator, new { workflow }, "retryFromFailedStep");
        var id = await BulkCalls.StartAsync(Operator, new { action = "retryFromFailedStep", filter = new { workflow }, expectedCount = 1 });
        var done = await BulkCalls.WaitAsync(Operator, id);

        Assert.Equal(2, dry.GetProperty("matched").GetInt64());
        Assert.Equal(1, dry.GetProperty("eligible").GetInt64());
        Assert.Equal(1, done.GetProperty("succeeded").GetInt64());
        var retry = (await Operator.GetJsonAsync($"/api/runs?workflow={workflow}&status=queued"))["items"]!.AsArray().Single()!;
        var steps = (await Operator.GetJsonAsync($"/api/runs/{retry["id"]}/steps")).AsArray();
        Assert.Equal("completed", (string)steps[0]!["status"]!);
        Assert.Equal("pending", (string)steps[1]!["status"]!);
    }

    [Fact]
    public async Task Cancel_Ids_QueuedCancelledRunningAskedToStop_OtherTenantsIdsNotMatched()
    {
        var workflow = BulkCalls.Workflow("cancel");
        var queued = await BulkCalls.RunsAsync(Ingest, workflow, "queued", 2);
        var running = await BulkCalls.RunsAsync(Ingest, workflow, "running", 1);
        var finished = await BulkCalls.RunsAsync(Ingest, workflow, "completed", 1);
        var foreign = (await factory.Bearer("beta", Roles.Ingest).CreateRunAsync(new { workflowName = workflow })).GetProperty("id").GetString()!;
        string[] ids = [.. queued, .. running, .. finished, foreign, "no-such-run"];

        var dry = await (await BulkCalls.PostAsync(Operator, new { action = "cancel", ids, dryRun = true })).JsonAsync();
        var id = await BulkCalls.StartAsync(Operator, new { action = "cancel", ids, expectedCount = 3 });
        var done = await BulkCalls.WaitAsync(Operator, id);

        Assert.Equal(4, dry.GetProperty("matched").GetInt64());
        Assert.Equal(3, dry.GetProperty("eligible").GetInt64());
        Assert.Equal(3, done.GetProperty("succeeded").GetInt64());
        foreach (var run in queued) Assert.Equal("cancelled", (string)(await Operator.GetJsonAsync($"/api/runs/{run}"))["status"]!);
        var asked = await Operator.GetJsonAsync($"/api/runs/{running[0]}");
        Assert.Equal("running", (string)asked["status"]!);
        Assert.True((bool)asked["cancelRequested"]!);
        Assert.Equal("queued", (string)(await factory.Bearer("beta", Roles.Viewer).GetJsonAsync($"/api/runs/{foreign}"))["status"]!);
    }

    [Fact]
    public async Task Ids_OfASuperAdmin_AnIdTwoTenantsHold_409UntilTenantNamed_ThenOnlyThatTenantsRun()
    {
        var workflow = BulkCalls.Workflow("shared-id");
        var shared = "shared-" + Guid.NewGuid().ToString("N")[..8];
        await Ingest.CreateRunAsync(new { id = shared, workflowName = workflow });
        await factory.Bearer("beta", Roles.Ingest).CreateRunAsync(new { id = shared, workflowName = workflow });
        var own = (await Ingest.CreateRunAsync(new { workflowName = workflow })).GetProperty("id").GetString()!;
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);

        var dry = await Problem(await BulkCalls.PostAsync(admin, new { action = "cancel", ids = new[] { own, shared }, dryRun = true }), HttpStatusCode.Conflict);
        var start = await Problem(await BulkCalls.PostAsync(admin, new { action = "cancel", ids = new[] { shared }, expectedCount = 2 }), HttpStatusCode.Conflict);
        var counted = await (await BulkCalls.PostAsync(admin, new { action = "cancel", ids = new[] { own, shared }, tenant = "alpha", dryRun = true })).JsonAsync();
        var id = await BulkCalls.StartAsync(admin, new { action = "cancel", ids = new[] { own, shared }, tenant = "alpha", expectedCount = 2 });
        var done = await BulkCalls.WaitAsync(admin, id);

        Assert.Equal($"run id '{shared}' names runs of tenants alpha, beta: say whose runs the ids are (\"tenant\" beside ids; on the runs page, filter by tenant)", dry.GetProperty("detail").GetString());
        Assert.Equal(dry.GetProperty("detail").GetString(), start.GetProperty("detail").GetString());
        Assert.Equal(2, counted.GetProperty("eligible").GetInt64());
        Assert.Equal(2, done.GetProperty("succeeded").GetInt64());
        Assert.Equal("cancelled", (string)(await Operator.GetJsonAsync($"/api/runs/{shared}"))["status"]!);
        Assert.Equal("queued", (string)(await factory.Bearer("beta", Roles.Viewer).GetJsonAsync($"/api/runs/{shared}"))["status"]!);
        // An id only one tenant holds needs no tenant.
        Assert.Equal(1, (await (await BulkCalls.PostAsync(admin, new { action = "retry", ids = new[] { own }, dryRun = true })).JsonAsync()).GetProperty("eligible").GetInt64());
    }

    [Theory]
    [InlineData("alpha", Roles.Operator, """{"action":"cancel","ids":["a"],"tenant":"alpha","dryRun":true}""")]
    [InlineData(null, null, """{"action":"cancel","ids":["a"],"tenant":"Not A Tenant","dryRun":true}""")]
    [InlineData(null, null, """{"action":"cancel","ids":["a"],"tenant":" ","dryRun":true}""")]
    [InlineData(null, null, """{"action":"cancel","filter":{},"tenant":"alpha","dryRun":true}""")]
    public async Task Tenant_BesideIds_SuperAdminOnly_ATenantId_NotBesideAFilter_400(string? tenant, string? role, string json)
    {
        var client = tenant is null ? factory.Bearer(KeyedFactory.SuperAdminKey) : factory.Bearer(tenant, role!);

        var problem = await Problem(await BulkCalls.PostRawAsync(client, json), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("tenant", out _), problem.ToString());
    }

    [Fact]
    public async Task Retry_TheSameFilterTwice_RetriesEachRunOnce_ARetryThatFailedIsRetriedInItsTurn()
    {
        var workflow = BulkCalls.Workflow("twice");
        var failed = await BulkCalls.RunsAsync(Ingest, workflow, "failed", 3);
        var filter = new { workflow, status = "failed" };
        var first = await BulkCalls.StartAsync(Operator, new { action = "retry", filter, expectedCount = 3 });
        await BulkCalls.WaitAsync(Operator, first);

        var again = await BulkCalls.DryRunAsync(Operator, filter);
        var retryOfFirst = (await Operator.GetJsonAsync($"/api/runs?workflow={workflow}&status=queued"))["items"]!.AsArray()
            .Select(r => (string)r!["id"]!).First();
        await Ingest.PatchJsonAsync($"/api/runs/{retryOfFirst}", new { status = "failed" });
        var afterAFailedRetry = await BulkCalls.DryRunAsync(Operator, filter);
        var second = await BulkCalls.StartAsync(Operator, new { action = "retry", filter, expectedCount = 1 });
        var done = await BulkCalls.WaitAsync(Operator, second);

        Assert.Equal((3, 0), (again.GetProperty("matched").GetInt64(), again.GetProperty("eligible").GetInt64()));
        Assert.Equal((4, 1), (afterAFailedRetry.GetProperty("matched").GetInt64(), afterAFailedRetry.GetProperty("eligible").GetInt64()));
        Assert.Equal(1, done.GetProperty("succeeded").GetInt64());
        foreach (var run in failed) Assert.Equal(1, await BulkCalls.RetriesOfAsync(factory.Services, run));
        Assert.Equal(1, await BulkCalls.RetriesOfAsync(factory.Services, retryOfFirst));
    }

    [Fact]
    public async Task Retry_ARunRetriedByHandAfterTheOperationFroze_IsSkippedNamingTheRetry()
    {
        var workflow = BulkCalls.Workflow("by-hand");
        var failed = await BulkCalls.RunsAsync(Ingest, workflow, "failed", 2);
        var worker = factory.Services.GetRequiredService<BulkWorker>();
        await worker.StopAsync(CancellationToken.None);
        long id;
        string byHand;
        try
        {
            id = await BulkCalls.StartAsync(Operator, new { action = "retry", ids = failed, expectedCount = 2 });
            var retried = await Operator.PostAsJsonAsync($"/api/runs/{failed[0]}/retry", new { });
            byHand = (await retried.JsonAsync()).GetProperty("newRunId").GetString()!;
        }
        finally
        {
            await worker.StartAsync(CancellationToken.None);
        }
        var done = await BulkCalls.WaitAsync(Operator, id);

        Assert.Equal((1, 1), (done.GetProperty("succeeded").GetInt64(), done.GetProperty("skipped").GetInt64()));
        var error = done.GetProperty("errors").EnumerateArray().Single();
        Assert.Equal(failed[0], error.GetProperty("runId").GetString());
        Assert.Equal($"already retried as {byHand}", error.GetProperty("reason").GetString());
        foreach (var run in failed) Assert.Equal(1, await BulkCalls.RetriesOfAsync(factory.Services, run));
    }

    [Fact]
    public async Task ExpectedCount_Wrong_409NamingBothNumbers_Missing_400_NothingStarted()
    {
        var workflow = BulkCalls.Workflow("expect");
        await BulkCalls.RunsAsync(Ingest, workflow, "failed", 3);
        var before = (await Operator.GetJsonAsync("/api/bulk")).AsArray().Count;

        var wrong = await Problem(await BulkCalls.PostAsync(Operator, new { action = "retry", filter = new { workflow }, expectedCount = 5 }), HttpStatusCode.Conflict);
        var missing = await Problem(await BulkCalls.PostAsync(Operator, new { action = "retry", filter = new { workflow } }), HttpStatusCode.BadRequest);

        var detail = wrong.GetProperty("detail").GetString()!;
        Assert.Contains("5", detail);
        Assert.Contains("3", detail);
        Assert.True(missing.GetProperty("errors").TryGetProperty("expectedCount", out _));
        Assert.Equal(before, (await Operator.GetJsonAsync("/api/bulk")).AsArray().Count);
        foreach (var run in (await Operator.GetJsonAsync($"/api/runs?workflow={workflow}"))["items"]!.AsArray())
            Assert.Equal("failed", (string)run!["status"]!);
    }

    [Theory]
    [InlineData("""{"action":"delete","filter":{}}""", "action")]
    [InlineData("""{"filter":{},"dryRun":true}""", "action")]
    [InlineData("""{"action":"retry","dryRun":true}""", "filter")]
    [InlineData("""{"action":"retry","filter":{},"ids":["a"],"dryRun":true}""", "ids")]
    [InlineData("""{"action":"retry","ids":[],"dryRun":true}""", "ids")]
    [InlineData("""{"action":"retry","ids":"abc","dryRun":true}""", "ids")]
    [InlineData("""{"action":"retry","ids":[1],"dryRun":true}""", "ids")]
    // No run id: it matched no run, and the dry run answered 200 with nothing matched.
    [InlineData("""{"action":"retry","ids":["a b"],"dryRun":true}""", "ids")]
    [InlineData("""{"action":"cancel","ids":["ok-1","-x"],"dryRun":true}""", "ids")]
    [InlineData("""{"action":"retry","filter":{"status":"bogus"},"dryRun":true}""", "filter.status")]
    [InlineData("""{"action":"retry","filter":"status=failed","dryRun":true}""", "filter")]
    [InlineData("""{"action":"retry","filter":{"limit":5},"dryRun":true}""", "filter.limit")]
    [InlineData("""{"action":"retry","filter":{"colour":"red"},"dryRun":true}""", "filter.colour")]
    [InlineData("""{"action":"retry","filter":{"q":{"a":1}},"dryRun":true}""", "filter.q")]
    [InlineData("""{"action":"retry","filter":{},"dryRun":"yes"}""", "dryRun")]
    [InlineData("""{"action":"retry","filter":{},"expectedCount":-1}""", "expectedCount")]
    [InlineData("""{"action":"retry","filter":{},"expectedCount":"3"}""", "expectedCount")]
    [InlineData("""{"action":"retry","filter":{},"dryRun":true,"force":true}""", "force")]
    [InlineData("""[1,2]""", "body")]
    [InlineData("""{"action":""", "body")]
    // Given twice, the later value won (a dry run went ahead as a real one); a null status matched every run.
    [InlineData("""{"action":"cancel","ids":["a"],"dryRun":true,"expectedCount":0,"dryRun":false}""", "dryRun")]
    [InlineData("""{"action":"cancel","ids":["a"],"ids":["b"],"dryRun":true}""", "ids")]
    [InlineData("""{"action":"retry","filter":{"status":"failed","status":"queued"},"dryRun":true}""", "filter.status")]
    [InlineData("""{"action":"retry","filter":{"status":null},"dryRun":true}""", "filter.status")]
    [InlineData("""{"action":"retry","filter":{"workflow":null},"dryRun":true}""", "filter.workflow")]
    // An empty value filtered nothing, so it too matched every run; an expected count beside a dry run was dropped.
    [InlineData("""{"action":"cancel","filter":{"status":[]},"dryRun":true}""", "filter.status")]
    [InlineData("""{"action":"cancel","filter":{"status":" , "},"dryRun":true}""", "filter.status")]
    [InlineData("""{"action":"cancel","filter":{"status":["",""]},"dryRun":true}""", "filter.status")]
    [InlineData("""{"action":"cancel","filter":{"workflow":""},"dryRun":true}""", "filter.workflow")]
    [InlineData("""{"action":"cancel","filter":{"q":"   "},"dryRun":true}""", "filter.q")]
    [InlineData("""{"action":"cancel","filter":{"status":"failed"},"dryRun":true,"expectedCount":3}""", "expectedCount")]
    public async Task BadInput_400NamingTheField(string json, string field)
    {
        var problem = await Problem(await BulkCalls.PostRawAsync(Operator, json), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Ids_MoreThan1000_400()
    {
        var ids = Enumerable.Range(0, 1001).Select(i => $"run-{i}").ToArray();

        var problem = await Problem(await BulkCalls.PostAsync(Operator, new { action = "retry", ids, dryRun = true }), HttpStatusCode.BadRequest);

        Assert.Contains("1000", problem.GetProperty("errors").GetProperty("ids")[0].GetString()!.Replace(",", ""));
        Assert.Equal(HttpStatusCode.OK, (await BulkCalls.PostAsync(Operator, new { action = "retry", ids = ids[..1000], dryRun = true })).StatusCode);
    }

    [Theory]
    [InlineData("status", "bogus")]
    [InlineData("from", "yesterday")]
    [InlineData("to", "2026-13-45")]
    [InlineData("tenant", "beta")]
    [InlineData("workflow", "")]
    public async Task Filter_ValueTheListRefuses_SameMessageAsTheList(string name, string value)
    {
        if (value.Length == 0) value = new string('w', 201);
        var list = await Problem(await Operator.GetAsync($"/api/runs?{name}={Uri.EscapeDataString(value)}"), HttpStatusCode.BadRequest);

        var bulk = await Problem(await BulkCalls.PostAsync(Operator, new { action = "retry", filter = new Dictionary<string, string> { [name] = value }, dryRun = true }),
            HttpStatusCode.BadRequest);

        // Named by its path in the body: filter.status.
        Assert.Equal("filter." + list.GetProperty("detail").GetString(), bulk.GetProperty("detail").GetString());
        var named = list.GetProperty("errors").EnumerateObject().Single();
        Assert.Equal(named.Value.ToString(), bulk.GetProperty("errors").GetProperty("filter." + named.Name).ToString());
    }

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Ingest)]
    public async Task EveryRoute_ViewerAndIngest_403(string role)
    {
        var client = factory.Bearer("alpha", role);
        var id = await BulkCalls.StartAsync(Operator, new { action = "retry", filter = new { workflow = BulkCalls.Workflow("roles") }, expectedCount = 0 });

        Assert.Equal(HttpStatusCode.Forbidden, (await BulkCalls.PostAsync(client, new { action = "retry", filter = new { }, dryRun = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/bulk")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/bulk/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"/api/bulk/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/ui/bulk/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/bulk/{id}")).StatusCode);
    }

    [Fact]
    public async Task AnotherTenantsOperation_404Everywhere_AndNotListed_UnknownId404()
    {
        var workflow = BulkCalls.Workflow("tenant");
        await BulkCalls.RunsAsync(Ingest, workflow, "failed", 2);
        var id = await BulkCalls.StartAsync(Operator, new { action = "retry", filter = new { workflow }, expectedCount = 2 });
        var beta = factory.Bearer("beta", Roles.Admin);

        await Problem(await beta.GetAsync($"/api/bulk/{id}"), HttpStatusCode.NotFound);
        await Problem(await beta.DeleteAsync($"/api/bulk/{id}"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, (await beta.GetAsync($"/ui/bulk/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await beta.GetAsync($"/bulk/{id}")).StatusCode);
        Assert.DoesNotContain((await beta.GetJsonAsync("/api/bulk")).AsArray(), o => (long)o!["id"]! == id);
        Assert.Contains((await Operator.GetJsonAsync("/api/bulk")).AsArray(), o => (long)o!["id"]! == id);
        Assert.Contains((await factory.Bearer(KeyedFactory.SuperAdminKey).GetJsonAsync("/api/bulk")).AsArray(), o => (long)o!["id"]! == id);
        await Problem(await Operator.GetAsync("/api/bulk/999999999"), HttpStatusCode.NotFound);
        await Problem(await Operator.GetAsync("/api/bulk/not-a-number"), HttpStatusCode.NotFound);
        await Problem(await Operator.DeleteAsync("/api/bulk/999999999"), HttpStatusCode.NotFound);
        // A beta key's filter is beta's runs: alpha's runs are not there to count.
        Assert.Equal(0, (await BulkCalls.DryRunAsync(beta, new { workflow })).GetProperty("matched").GetInt64());
    }

    [Fact]
    public async Task List_NewestFirst_AtMost50_WithoutErrors()
    {
        var workflow = BulkCalls.Workflow("list");
        var first = await BulkCalls.StartAsync(Operator, new { action = "retry", filter = new { workflow }, expectedCount = 0 });
        var second = await BulkCalls.StartAsync(Operator, new { action = "cancel", filter = new { workflow }, expectedCount = 0 });

        var list = (await Operator.GetJsonAsync("/api/bulk")).AsArray();

        Assert.True(list.Count <= 50);
        var ids = list.Select(o => (long)o!["id"]!).ToList();
        Assert.True(ids.IndexOf(second) < ids.IndexOf(first));
        Assert.Equal(ids.OrderDescending(), ids);
        Assert.Equal("completed", (string)list[ids.IndexOf(first)]!["status"]!);
        Assert.Equal(HttpStatusCode.BadRequest, (await Operator.GetAsync("/api/bulk?limit=5")).StatusCode);
    }

    [Fact]
    public async Task Progress_Fragment_200WhileRunning_286WhenFinished_WithToastForHtmx()
    {
        var workflow = BulkCalls.Workflow("progress");
        await BulkCalls.RunsAsync(Ingest, workflow, "failed", 3);
        var id = await BulkCalls.StartAsync(Operator, new { action = "retry", filter = new { workflow }, expectedCount = 3 });
        await BulkCalls.WaitAsync(Operator, id);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/ui/bulk/{id}");
        request.Headers.Add("HX-Request", "true");
        var response = await Operator.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(286, (int)response.StatusCode);
        Assert.Contains("class=\"bulk-progress", html);
        Assert.DoesNotContain("<html", html);
        Assert.DoesNotContain("hx-trigger=\"every", html);
        var trigger = response.Headers.GetValues("HX-Trigger").Single();
        Assert.Contains("showToast", trigger);
        Assert.Contains("runsChanged", trigger);
        Assert.Contains("Retry of 3 runs completed: 3 succeeded", trigger);
        Assert.Equal(HttpStatusCode.NotFound, (await Operator.GetAsync("/ui/bulk/123456789")).StatusCode);
    }

    [Theory]
    [InlineData("cancel", "queued", 2, "Cancellation of 2 runs")]
    [InlineData("cancel", "queued", 1, "Cancellation of 1 run")]
    [InlineData("retryFromFailedStep", "failed", 2, "Retry of 2 runs from their failed steps")]
    public async Task Progress_NamesTheOperationAsAThing(string action, string status, int count, string named)
    {
        var workflow = BulkCalls.Workflow("named");
        var ids = await BulkCalls.RunsAsync(Ingest, workflow, status, count);
        foreach (var run in status == "failed" ? ids : [])
            await Ingest.PutAsJsonAsync($"/api/runs/{run}/steps/s1", new { status = "failed" });
        var id = await BulkCalls.StartAsync(Operator, new { action, ids, expectedCount = count });
        await BulkCalls.WaitAsync(Operator, id);

        var progress = await Operator.GetDocumentAsync($"/ui/bulk/{id}");
        var page = await Operator.GetDocumentAsync($"/bulk/{id}");

        Assert.StartsWith(named + " ", progress.QuerySelector(".bulk-progress h2")!.TextContent);
        Assert.StartsWith(named + " ", page.Title);
        Assert.Contains(named, (await Operator.GetDocumentAsync("/bulk")).QuerySelector($".bulk-operations a[href='/bulk/{id}']")!.TextContent);
    }

    [Fact]
    public async Task Delete_Running_202Stopped_Completed409()
    {
        var workflow = BulkCalls.Workflow("stop");
        await BulkCalls.RunsAsync(Ingest, workflow, "failed", 1);
        var finished = await BulkCalls.StartAsync(Operator, new { action = "retry", filter = new { workflow }, expectedCount = 1 });
        await BulkCalls.WaitAsync(Operator, finished);

        await Problem(await Operator.DeleteAsync($"/api/bulk/{finished}"), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task ConcurrentCancels_OverlappingFilters_EachRunCancelledOnce_TheOtherSkipsIt()
    {
        var workflow = BulkCalls.Workflow("overlap");
        var runs = await BulkCalls.RunsAsync(Ingest, workflow, "queued", 30);
        // The last runs of the first operation's order: still queued when the second one freezes its set.
        var half = runs.Skip(15).ToArray();
        var admin = factory.Bearer("alpha", Roles.Admin);

        var first = await BulkCalls.StartAsync(Operator, new { action = "cancel", filter = new { workflow }, expectedCount = 30 });
        long second = 0, overlap = 0;
        for (var attempt = 0; second == 0; attempt++)
        {
            // Counted and started while the first one runs: the count may change in between (409), as the dialog's would.
            overlap = (await (await BulkCalls.PostAsync(admin, new { action = "cancel", ids = half, dryRun = true })).JsonAsync()).GetProperty("eligible").GetInt64();
            var response = await BulkCalls.PostAsync(admin, new { action = "cancel", ids = half, expectedCount = overlap });
            if (response.StatusCode == HttpStatusCode.Accepted) second = (await response.JsonAsync()).GetProperty("id").GetInt64();
            else Assert.True(response.StatusCode == HttpStatusCode.Conflict && attempt < 20, await response.Content.ReadAsStringAsync());
        }
        var a = await BulkCalls.WaitAsync(Operator, first);
        var b = await BulkCalls.WaitAsync(Operator, second);

        Assert.Equal(30, a.GetProperty("done").GetInt64());
        Assert.Equal(overlap, b.GetProperty("done").GetInt64());
        Assert.Equal(30, a.GetProperty("succeeded").GetInt64() + b.GetProperty("succeeded").GetInt64());
        Assert.Equal(overlap, a.GetProperty("skipped").GetInt64() + b.GetProperty("skipped").GetInt64());
        var skipped = a.GetProperty("errors").EnumerateArray().Concat(b.GetProperty("errors").EnumerateArray()).ToList();
        Assert.All(skipped, e => Assert.Contains("cancelled", e.GetProperty("reason").GetString()));
        foreach (var run in runs)
        {
            Assert.Equal("cancelled", (string)(await Operator.GetJsonAsync($"/api/runs/{run}"))["status"]!);
            var activity = (await Operator.GetJsonAsync($"/api/runs/{run}/activity")).AsArray();
            Assert.Single(activity, e => (string)e!["action"]! == "cancelled");
        }
    }
}

public sealed class BulkApiTestsOnPostgres(PostgresBulkFactory factory) : BulkApiTests(factory), IClassFixture<PostgresBulkFactory>;
