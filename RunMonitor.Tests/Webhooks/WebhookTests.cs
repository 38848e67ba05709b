using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Webhooks;

/// A tiny receiver on a real loopback port: it answers 500 to each delivery's first attempt, 200 after.
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _attempts = new();
    private WebApplication? _app;

    public ConcurrentQueue<(string Body, string? Signature, string? Event)> Received { get; } = new();

    public string Url { get; private set; } = "";

    /// How long it takes to answer (a slow receiver keeps deliveries in flight).
    public TimeSpan Delay { get; init; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            Received.Enqueue((await reader.ReadToEndAsync(), http.Request.Headers["X-RunMonitor-Signature"].ToString(), http.Request.Headers["X-RunMonitor-Event"].ToString()));
            var attempt = _attempts.AddOrUpdate(http.Request.Headers["X-RunMonitor-Delivery"].ToString(), 1, (_, n) => n + 1);
            if (Delay > TimeSpan.Zero) await Task.Delay(Delay);
            return attempt == 1 ? Results.StatusCode(500) : Results.Ok();
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = address.TrimEnd('/') + "/hook";
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}

public class WebhookFixture : IAsyncLifetime
{
    protected virtual TestStore Store => TestStore.Sqlite;

    public const string Secret = "s3cret-key";

    public WebhookReceiver Receiver { get; } = new();

    public RunMonitorFactory Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Receiver.StartAsync();
        Factory = new HookedFactory(Receiver.Url, Store);
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    private sealed class HookedFactory(string url, TestStore store) : RunMonitorFactory(store)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Webhooks:0:Url"] = url,
            ["RunMonitor:Webhooks:0:Secret"] = Secret,
            // Nothing listens on port 9: a dead receiver, which must not slow ingest.
            ["RunMonitor:Webhooks:1:Url"] = "http://127.0.0.1:9/dead",
            ["RunMonitor:Webhooks:1:Secret"] = "other",
            ["RunMonitor:Webhooks:2:Url"] = url,
            // Configured with capitals, as a tenant id may be given anywhere: it is the tenant another-tenant.
            ["RunMonitor:Webhooks:2:Tenant"] = "Another-Tenant",
        };
    }
}

/// The same receivers, the app on PostgreSQL.
public sealed class PostgresWebhookFixture : WebhookFixture
{
    protected override TestStore Store => TestStore.Postgres;
}

public sealed class WebhookTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, int seconds = 15)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > until) return value;
            await Task.Delay(200);
        }
    }

    private async Task<IReadOnlyList<WebhookDeliveryRow>> DeliveriesAsync(string runId, string tenant = RunMonitor.Web.Security.Caller.DefaultTenant)
    {
        var database = fixture.Factory.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        return await WebhookOutbox.ForRunAsync(connection, tenant, runId);
    }

    [Fact]
    public async Task TerminalTransition_ReceiverTenantConfiguredWithCapitals_QueuedForThatTenantsRun()
    {
        var client = fixture.Factory.CreateClient();
        await client.CreateRunAsync(new { id = "hooked-tenant", tenantId = "another-tenant", workflowName = "hooked", status = "completed" });

        var deliveries = await DeliveriesAsync("hooked-tenant", "another-tenant");

        Assert.Equal(new long[] { 0, 1, 2 }, deliveries.Select(d => d.WebhookIndex).Order());
    }

    [Fact]
    public async Task TerminalTransition_OmeercsRun_BodyCarriesItsFields()
    {
        var client = fixture.Factory.CreateClient();
        var id = (await client.CreateRunAsync(new { workflowName = "hooked", status = "running", workflowVersion = "1.4.2", triggerType = "update", baseRunId = "base-1" }))
            .GetProperty("id").GetString()!;

        await client.PatchJsonAsync($"/api/runs/{id}", new { status = "failed", error = new { code = "E_STEP", message = "boom", failedStepId = "render", timestamp = "2026-11-21T11:59:00Z" } });
        var delivery = (await DeliveriesAsync(id)).First(d => d.WebhookIndex == 0);

        var run = JsonDocument.Parse(delivery.Payload).RootElement.GetProperty("run");
        Assert.Equal("1.4.2", run.GetProperty("workflowVersion").GetString());
        Assert.Equal("update", run.GetProperty("triggerType").GetString());
        Assert.Equal("base-1", run.GetProperty("baseRunId").GetString());
        Assert.Equal("E_STEP", run.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("render", run.GetProperty("error").GetProperty("failedStepId").GetString());
    }

    [Fact]
    public async Task TerminalTransition_PostsSignedEvent_RetriesAfter500UntilDelivered()
    {
        var client = fixture.Factory.CreateClient();
        var id = (await client.CreateRunAsync(new { workflowName = "hooked", status = "running" })).GetProperty("id").GetString()!;

        var watch = Stopwatch.StartNew();
        var patch = await client.PatchJsonAsync($"/api/runs/{id}", new { status = "failed", error = new { message = "boom" } });
        watch.Stop();
        var first = await EventuallyAsync(() => DeliveriesAsync(id), d => d.Any(x => x.WebhookIndex == 0 && x.Attempts >= 1));
        fixture.Factory.Clock.Advance(TimeSpan.FromMinutes(1)); // past the back-off
        var delivered = await EventuallyAsync(() => DeliveriesAsync(id), d => d.Any(x => x.WebhookIndex == 0 && x.Status == WebhookOutbox.Delivered));

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"ingest took {watch.Elapsed} with a dead receiver configured");
        Assert.Equal(2, delivered.Count); // hook 0 and the dead hook 1; hook 2 is another tenant's
        var firstTry = first.Single(d => d.WebhookIndex == 0);
        Assert.Equal(500, firstTry.LastStatusCode);
        var ok = delivered.Single(d => d.WebhookIndex == 0);
        Assert.Equal(2, ok.Attempts);
        Assert.Equal(200, ok.LastStatusCode);
        var received = fixture.Receiver.Received.Where(r => r.Body.Contains(id)).ToList();
        Assert.Equal(2, received.Count);
        foreach (var (body, signature, eventName) in received)
        {
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookFixture.Secret), Encoding.UTF8.GetBytes(body)));
            Assert.Equal(expected, signature);
            Assert.Equal("run.failed", eventName);
            using var doc = JsonDocument.Parse(body);
            Assert.Equal("run.failed", doc.RootElement.GetProperty("event").GetString());
            Assert.Equal(id, doc.RootElement.GetProperty("run").GetProperty("id").GetString());
            Assert.Equal("boom", doc.RootElement.GetProperty("run").GetProperty("error").GetProperty("message").GetString());
        }
        var dead = await EventuallyAsync(() => DeliveriesAsync(id), d => d.Single(x => x.WebhookIndex == 1).Attempts >= 1);
        Assert.Equal(WebhookOutbox.Pending, dead.Single(x => x.WebhookIndex == 1).Status);
        Assert.NotNull(dead.Single(x => x.WebhookIndex == 1).LastError);
    }

    [Fact]
    public async Task CancelQueuedRun_QueuesRunCancelled_NonTerminalWritesQueueNothing()
    {
        var client = fixture.Factory.CreateClient();
        var quiet = (await client.CreateRunAsync(new { workflowName = "hooked-quiet", status = "running" })).GetProperty("id").GetString()!;
        await client.PatchJsonAsync($"/api/runs/{quiet}", new { metrics = new { targetsMatched = 1 } });
        var queued = (await client.CreateRunAsync(new { workflowName = "hooked-cancel" })).GetProperty("id").GetString()!;

        await client.DeleteAsync($"/api/runs/{queued}");

        Assert.Empty(await DeliveriesAsync(quiet));
        var deliveries = await DeliveriesAsync(queued);
        Assert.Equal(2, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal("run.cancelled", d.Event));
    }

    [Fact]
    public async Task DeadReceiver_IsRetriedWithBackOffThenGivenUpAndLogged()
    {
        var client = fixture.Factory.CreateClient();
        var id = (await client.CreateRunAsync(new { workflowName = "hooked-dead", status = "running" })).GetProperty("id").GetString()!;
        await client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });

        WebhookDeliveryRow dead;
        var attempts = 0L;
        do
        {
            dead = (await EventuallyAsync(() => DeliveriesAsync(id), d => d.Single(x => x.WebhookIndex == 1).Attempts > attempts)).Single(x => x.WebhookIndex == 1);
            Assert.True(dead.Attempts > attempts, $"no attempt after {attempts}");
            attempts = dead.Attempts;
            fixture.Factory.Clock.Advance(TimeSpan.FromHours(1.01)); // past the longest back-off
        }
        while (dead.Status == WebhookOutbox.Pending);

        Assert.Equal(WebhookOutbox.Failed, dead.Status);
        Assert.Equal(WebhookDispatcher.MaxAttempts, dead.Attempts);
        Assert.NotNull(dead.LastError);
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 10)]
    [InlineData(3, 40)]
    [InlineData(9, 2560)]
    [InlineData(30, 3600)]
    public void BackOff_DoublesFromFiveSecondsUpToAnHour(long attemptsSoFar, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), WebhookDispatcher.BackOff(attemptsSoFar));
    }

    [Fact]
    public void Sign_KnownVector_MatchesHmacSha256Hex()
    {
        // RFC 4231 test case 2.
        var signature = WebhookOutbox.Sign("Jefe", Encoding.ASCII.GetBytes("what do ya want for nothing?"));

        Assert.Equal("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", signature);
    }
}
