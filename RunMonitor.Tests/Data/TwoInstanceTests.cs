using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Data;

/// Two instances of the app on one PostgreSQL database, as behind a load balancer: what is written
/// through one is read, claimed, streamed and announced through the other, and nothing happens twice.
public sealed class TwoInstanceTests : IAsyncLifetime
{
    private readonly string _database = PostgresServer.CreateDatabase();
    private readonly HookReceiver _receiver = new();
    private Instance _a = null!;
    private Instance _b = null!;
    private HttpClient _clientA = null!;
    private HttpClient _clientB = null!;

    public async Task InitializeAsync()
    {
        await _receiver.StartAsync();
        _a = new Instance(_database, _receiver.Url);
        _b = new Instance(_database, _receiver.Url);
        _clientA = _a.CreateClient();
        _clientB = _b.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _receiver.DisposeAsync();
        PostgresServer.DropDatabase(_database);
    }

    private sealed class Instance(string database, string hookUrl) : RunMonitorFactory(database)
    {
        // Real time: leases, webhook due times and notices run as they would in production.
        protected override bool UseTestClock => false;

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Webhooks:0:Url"] = hookUrl,
            ["RunMonitor:Webhooks:0:Secret"] = "two-instances",
        };
    }

    private sealed class KeyedInstance(string database) : KeyedFactory(database);

    [Fact]
    public async Task SignInOnOne_CookieAndAntiforgeryTokenAcceptedByTheOther()
    {
        await using var a = new KeyedInstance(_database);
        await using var b = new KeyedInstance(_database);
        var cookies = new CookieContainer();
        var viaA = a.CreateDefaultClient(new CookieContainerHandler(cookies));
        var viaB = b.CreateDefaultClient(new CookieContainerHandler(cookies));
        var login = await viaA.GetDocumentAsync("/login");
        var loginToken = login.QuerySelector("form input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var signedIn = await viaA.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = KeyedFactory.KeyFor("alpha", Roles.Ingest), ["returnUrl"] = "/ui/runs", ["__RequestVerificationToken"] = loginToken,
        }));
        var pageTokenFromA = await KeyedFactory.PageTokenAsync(viaA);

        var pageOnB = await viaB.GetAsync("/ui/runs");
        using var post = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = JsonContent.Create(new { workflowName = "signed-in-on-a" }) };
        post.Headers.Add("RequestVerificationToken", pageTokenFromA);
        var postOnB = await viaB.SendAsync(post);

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pageOnB.StatusCode);
        Assert.Equal(HttpStatusCode.Created, postOnB.StatusCode);
        // Both instances run in this one process and could share a key folder; on several machines only the
        // shared store is common to them, and that is where the key ring is.
        await using var connection = new NpgsqlConnection(_database);
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM data_protection_keys") >= 1);
    }

    [Fact]
    public async Task IngestOnOne_ReadsOnBoth()
    {
        var id = (await _clientA.CreateRunAsync(new { workflowName = "shared-read", name = "Made on A", status = "running" })).GetProperty("id").GetString()!;

        var viaB = await _clientB.GetAsync($"/api/runs/{id}");
        var list = await _clientB.GetDocumentAsync("/ui/runs/list?workflow=shared-read");

        Assert.Equal(HttpStatusCode.OK, viaB.StatusCode);
        Assert.Equal("Made on A", (await viaB.JsonAsync()).GetProperty("name").GetString());
        Assert.Equal(id, list.QuerySelector("tr[data-run-id]")?.GetAttribute("data-run-id"));
    }

    [Fact]
    public async Task ConcurrentClaimsThroughBoth_NeverHandARunOutTwice()
    {
        const int runs = 40;
        var ids = new List<string>();
        for (var i = 0; i < runs; i++)
            ids.Add((await (i % 2 == 0 ? _clientA : _clientB).CreateRunAsync(new { workflowName = "shared-claim" })).GetProperty("id").GetString()!);

        var claimed = new ConcurrentBag<string>();
        async Task WorkerAsync(HttpClient client, string worker)
        {
            while (true)
            {
                var response = await client.PostAsJsonAsync("/api/queue/claim", new { worker, workflows = new[] { "shared-claim" }, leaseSeconds = 60 });
                if (response.StatusCode == HttpStatusCode.NoContent) return;
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                claimed.Add((await response.JsonAsync()).GetProperty("id").GetString()!);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => WorkerAsync(w % 2 == 0 ? _clientA : _clientB, $"w{w}")));

        Assert.Equal(runs, claimed.Count);
        Assert.Equal(ids.Order(), claimed.Distinct().Order());
    }

    [Fact]
    public async Task RunFinishedOnOne_ReachesTheOthersLiveStream()
    {
        var id = (await _clientA.CreateRunAsync(new { workflowName = "shared-live", status = "running" })).GetProperty("id").GetString()!;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ui/runs/{id}/events");
        using var response = await _clientB.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));

        var first = await reader.NextEventAsync(timeout.Token);
        await _clientA.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
        var events = new List<string>();
        while (events.LastOrDefault()?.StartsWith("event: end", StringComparison.Ordinal) != true) events.Add(await reader.NextEventAsync(timeout.Token));

        Assert.Equal("event: run|data: running", first);
        Assert.Equal("event: end|data: completed", events[^1]);
    }

    [Fact]
    public async Task RunsFinishedThroughBoth_SendEachWebhookOnce()
    {
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var client = i % 2 == 0 ? _clientA : _clientB;
            var id = (await client.CreateRunAsync(new { workflowName = "shared-hooks", status = "running" })).GetProperty("id").GetString()!;
            await client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
            ids.Add(id);
        }

        var until = DateTime.UtcNow.AddSeconds(20);
        while (ids.Any(id => !_receiver.RunIds.Contains(id)) && DateTime.UtcNow < until) await Task.Delay(100);
        // Both dispatchers poll at least every second: give a duplicate time to show up.
        await Task.Delay(2500);

        Assert.Equal(ids.Order(), _receiver.RunIds.Where(ids.Contains).Order());
        Assert.Equal(_receiver.Deliveries.Count, _receiver.Deliveries.Distinct().Count());
    }

    [Fact]
    public async Task LeaseRunsOut_BothInstancesSweep_TheRunEndsOnceWithOneWebhook()
    {
        var id = (await _clientA.CreateRunAsync(new { workflowName = "shared-sweep" })).GetProperty("id").GetString()!;
        var claim = await _clientB.PostAsJsonAsync("/api/queue/claim", new { worker = "gone", workflows = new[] { "shared-sweep" }, leaseSeconds = 5 });
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);

        // Both instances' sweepers pass every 2 s; the lease ends after 5 s.
        var until = DateTime.UtcNow.AddSeconds(20);
        JsonElement run;
        do
        {
            await Task.Delay(250);
            run = await (await _clientA.GetAsync($"/api/runs/{id}")).JsonAsync();
        }
        while (run.GetProperty("status").GetString() == "running" && DateTime.UtcNow < until);
        var hookUntil = DateTime.UtcNow.AddSeconds(10);
        while (!_receiver.RunIds.Contains(id) && DateTime.UtcNow < hookUntil) await Task.Delay(100);
        await Task.Delay(2500);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        Assert.Equal("worker lease expired", run.GetProperty("error").GetProperty("message").GetString());
        Assert.Single(_receiver.RunIds, r => r == id);
    }

    [Fact]
    public async Task StatsOnOne_CountRunsIngestedOnTheOther()
    {
        var before = await StatsTotalAsync(_clientB);
        for (var i = 0; i < 3; i++) await _clientA.CreateRunAsync(new { workflowName = "shared-stats", status = "completed" });

        var until = DateTime.UtcNow.AddSeconds(5);
        var after = await StatsTotalAsync(_clientB);
        while (after < before + 3 && DateTime.UtcNow < until)
        {
            await Task.Delay(100);
            after = await StatsTotalAsync(_clientB);
        }

        Assert.True(after >= before + 3, $"instance B counted {after - before} of the 3 runs ingested on A");
    }

    private static async Task<long> StatsTotalAsync(HttpClient client)
    {
        var doc = await client.GetDocumentAsync("/ui/runs/stats");
        var text = doc.QuerySelector(".stat-card .stat-value")?.TextContent
                   ?? throw new InvalidOperationException("no total card: " + doc.Body?.InnerHtml);
        return long.Parse(text.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// Answers every delivery 200 and records which run and delivery it was.
    private sealed class HookReceiver : IAsyncDisposable
    {
        private WebApplication? _app;

        public ConcurrentBag<string> Deliveries { get; } = [];

        public ConcurrentBag<string> RunIds { get; } = [];

        public string Url { get; private set; } = "";

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.MapPost("/hook", async (HttpContext http) =>
            {
                using var body = await JsonDocument.ParseAsync(http.Request.Body);
                RunIds.Add(body.RootElement.GetProperty("run").GetProperty("id").GetString()!);
                Deliveries.Add(http.Request.Headers["X-RunMonitor-Delivery"].ToString());
                return Results.Ok();
            });
            await _app.StartAsync();
            Url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/hook";
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null) await _app.DisposeAsync();
        }
    }
}
