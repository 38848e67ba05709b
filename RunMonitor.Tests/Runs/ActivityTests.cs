using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Runs;

/// SPEC "Activity": every change to a run is recorded against it with who made it, by the write paths themselves
/// (ingest, claim, retry, cancel, the lease sweeper), listed oldest first by `/api/runs/{id}/activity` and on the run page.
public class ActivityTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private HttpClient Ingest => factory.Bearer("alpha", Roles.Ingest);
    private HttpClient Operator => factory.Bearer("alpha", Roles.Operator);

    private static async Task<List<JsonElement>> ActivityAsync(HttpClient client, string id)
    {
        var response = await client.GetAsync($"/api/runs/{id}/activity");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static IEnumerable<string> Actions(IEnumerable<JsonElement> activity) => activity.Select(a => a.GetProperty("action").GetString()!);

    private async Task<string> ActorOfAsync(string tenant, string role)
    {
        // The key's id (what saved views' createdBy name too), then its tenant.
        var key = await factory.Services.GetRequiredService<ApiKeyStore>().FindAsync(KeyedFactory.KeyFor(tenant, role));
        return $"key {key!.Id} ({tenant})";
    }

    [Fact]
    public async Task Lifecycle_CreatedClaimedFailedRetriedCancelled_EachRecordedWithItsActorOldestFirst()
    {
        var workflow = "act-life-" + Guid.NewGuid().ToString("N")[..8];
        var id = (await Ingest.CreateRunAsync(new { workflowName = workflow })).GetProperty("id").GetString()!;
        var claim = await Ingest.PostAsJsonAsync("/api/queue/claim", new { worker = "worker-7", workflows = new[] { workflow }, leaseSeconds = 30 });
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Ingest.PatchJsonAsync($"/api/runs/{id}", new { status = "failed", error = new { message = "boom" } })).StatusCode);
        var retry = await Operator.PostAsJsonAsync($"/api/runs/{id}/retry", new { });
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        var newId = (await retry.JsonAsync()).GetProperty("newRunId").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Operator.DeleteAsync($"/api/runs/{newId}")).StatusCode);

        var old = await ActivityAsync(factory.Bearer("alpha", Roles.Viewer), id);
        var fresh = await ActivityAsync(Operator, newId);

        Assert.Equal(["created", "claimed", "failed", "retried"], Actions(old));
        Assert.Equal(await ActorOfAsync("alpha", Roles.Ingest), old[0].GetProperty("actor").GetString());
        Assert.Equal("worker-7", old[1].GetProperty("actor").GetString());
        Assert.Contains("30 s", old[1].GetProperty("detail").GetString());
        Assert.Contains("boom", old[2].GetProperty("detail").GetString());
        var operatorActor = await ActorOfAsync("alpha", Roles.Operator);
        Assert.Equal(operatorActor, old[3].GetProperty("actor").GetString());
        Assert.Contains(newId, old[3].GetProperty("detail").GetString());
        Assert.Equal(["retry-of", "cancelled"], Actions(fresh));
        Assert.Contains(id, fresh[0].GetProperty("detail").GetString());
        Assert.DoesNotContain("input edited", fresh[0].GetProperty("detail").GetString());
        Assert.All(fresh, a => Assert.Equal(operatorActor, a.GetProperty("actor").GetString()));
        Assert.Equal(factory.Clock.GetUtcNow(), old[0].GetProperty("at").GetDateTimeOffset());
        // Every entry has the four fields, no more.
        Assert.All(old, a => Assert.Equal(["at", "actor", "action", "detail"], a.EnumerateObject().Select(p => p.Name)));
    }

    [Fact]
    public async Task RetryWithEditedPayload_NewRunSaysItsInputWasEdited()
    {
        var id = (await Ingest.CreateRunAsync(new { workflowName = "act-edit", status = "failed", triggerPayload = new { a = 1 } })).GetProperty("id").GetString()!;

        var retry = await Operator.PostAsJsonAsync($"/api/runs/{id}/retry", new { triggerPayload = new { a = 2 } });

        var newId = (await retry.JsonAsync()).GetProperty("newRunId").GetString()!;
        var fresh = await ActivityAsync(Operator, newId);
        Assert.Equal("retry-of", fresh[0].GetProperty("action").GetString());
        Assert.Contains("input edited", fresh[0].GetProperty("detail").GetString());
        Assert.Equal(["created"], Actions(await ActivityAsync(Operator, id)).Take(1));
        Assert.Contains("reported as failed", (await ActivityAsync(Operator, id))[0].GetProperty("detail").GetString());
    }

    [Fact]
    public async Task CancelRunning_ThenLeaseExpires_CancelRequestedBySomeoneThenLeaseExpiredBySystem()
    {
        var workflow = "act-lease-" + Guid.NewGuid().ToString("N")[..8];
        var id = (await Ingest.CreateRunAsync(new { workflowName = workflow })).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Ingest.PostAsJsonAsync("/api/queue/claim", new { worker = "gone-worker", workflows = new[] { workflow }, leaseSeconds = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Operator.DeleteAsync($"/api/runs/{id}")).StatusCode);

        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        var until = DateTime.UtcNow.AddSeconds(15);
        List<JsonElement> activity;
        do
        {
            await Task.Delay(200);
            activity = await ActivityAsync(Operator, id);
        } while (!Actions(activity).Contains("lease-expired") && DateTime.UtcNow < until);

        Assert.Equal(["created", "claimed", "cancel-requested", "lease-expired"], Actions(activity));
        Assert.Contains("gone-worker", activity[2].GetProperty("detail").GetString());
        Assert.Equal("system", activity[3].GetProperty("actor").GetString());
        Assert.Contains("cancelled", activity[3].GetProperty("detail").GetString());
    }

    [Fact]
    public async Task CancelRunningTwice_202BothTimesAndRecordedOnce()
    {
        var workflow = "act-twice-" + Guid.NewGuid().ToString("N")[..8];
        var id = (await Ingest.CreateRunAsync(new { workflowName = workflow })).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await Ingest.PostAsJsonAsync("/api/queue/claim", new { worker = "busy-worker", workflows = new[] { workflow } })).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await Operator.DeleteAsync($"/api/runs/{id}")).StatusCode);
        var again = await Operator.DeleteAsync($"/api/runs/{id}");

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.True((await again.JsonAsync()).GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(["created", "claimed", "cancel-requested"], Actions(await ActivityAsync(Operator, id)));
    }

    [Fact]
    public async Task Get_AnotherTenantsRun_404_UnknownRun_404_BadParameter_400()
    {
        var id = (await Ingest.CreateRunAsync(new { workflowName = "act-tenant" })).GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.NotFound, (await factory.Bearer("beta", Roles.Admin).GetAsync($"/api/runs/{id}/activity")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Operator.GetAsync("/api/runs/no-such-run/activity")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Operator.GetAsync($"/api/runs/{id}/activity?limit=5")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.Bearer(KeyedFactory.SuperAdminKey).GetAsync($"/api/runs/{id}/activity?tenant=alpha")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.Anonymous().GetAsync($"/api/runs/{id}/activity")).StatusCode);
    }

    [Fact]
    public async Task RunPage_ListsTheActivity()
    {
        var id = (await Ingest.CreateRunAsync(new { workflowName = "act-page", status = "failed" })).GetProperty("id").GetString()!;
        var retry = await Operator.PostAsJsonAsync($"/api/runs/{id}/retry", new { });
        var newId = (await retry.JsonAsync()).GetProperty("newRunId").GetString()!;

        var page = await Operator.GetDocumentAsync($"/runs/{id}");
        var retryPage = await Operator.GetDocumentAsync($"/runs/{newId}");

        var items = page.QuerySelectorAll(".activity-list li");
        Assert.Equal(["created", "retried"], items.Select(i => i.QuerySelector(".activity-action").Text()));
        Assert.Equal(await ActorOfAsync("alpha", Roles.Operator), items[1].QuerySelector(".activity-actor").Text());
        Assert.Equal($"retried as {newId} (whole)", items[1].QuerySelector(".activity-detail").Text());
        // The runs a detail names are links, as under "Retry of" and "Retried by".
        Assert.Equal($"/runs/{newId}", items[1].QuerySelector(".activity-detail a")?.GetAttribute("href"));
        Assert.Equal($"/runs/{id}", retryPage.QuerySelector(".activity-list .activity-detail a")?.GetAttribute("href"));
        Assert.Null(items[0].QuerySelector(".activity-detail a"));
        Assert.NotNull(items[0].QuerySelector("time[datetime]"));
    }

    [Fact]
    public async Task Retention_DeletesTheActivityWithItsRun()
    {
        // Created finished that long ago, it would be refused (past retention); it ran then, and is reported ended now.
        var id = (await Ingest.CreateRunAsync(new
        {
            workflowName = "act-retention", status = "running",
            createdAt = factory.Clock.GetUtcNow().AddDays(-90), startedAt = factory.Clock.GetUtcNow().AddDays(-90),
        })).GetProperty("id").GetString()!;
        Assert.True((await Ingest.PatchJsonAsync($"/api/runs/{id}", new { status = "completed", completedAt = factory.Clock.GetUtcNow().AddDays(-89) })).IsSuccessStatusCode);
        Assert.NotEmpty(await ActivityAsync(Operator, id));

        await factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        var database = factory.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM run_activity WHERE run_id = @Id", new { Id = id }));
        Assert.Equal(HttpStatusCode.NotFound, (await Operator.GetAsync($"/api/runs/{id}/activity")).StatusCode);
    }
}

public sealed class ActivityTestsOnPostgres(PostgresKeyedFactory factory) : ActivityTests(factory), IClassFixture<PostgresKeyedFactory>;

/// Without keys, a loopback caller is trusted: its changes name `loopback`.
public class LoopbackActivityTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    [Fact]
    public async Task Create_FromLoopbackWithoutKeys_ActorIsLoopback()
    {
        var client = factory.CreateClient();
        var id = (await client.CreateRunAsync(new { workflowName = "act-loopback" })).GetProperty("id").GetString()!;

        var activity = (await client.GetJsonAsync($"/api/runs/{id}/activity")).AsArray();

        Assert.Equal("created", (string)activity[0]!["action"]!);
        Assert.Equal("loopback", (string)activity[0]!["actor"]!);
    }
}
