using System.Data;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Runs;

public class RetentionTests : IDisposable
{
    private readonly TestStore _store;
    private readonly RetentionFactory _factory;

    public RetentionTests() : this(TestStore.Sqlite) { }

    protected RetentionTests(TestStore store)
    {
        _store = store;
        _factory = new RetentionFactory(store);
    }

    public void Dispose()
    {
        _factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class RetentionFactory(TestStore store) : RunMonitorFactory(store)
    {
        public RecordingListener Listener { get; } = new();

        public int? Days { get; init; }

        /// A receiver that is never there: deliveries are queued and stay pending, retried.
        public bool WithWebhook { get; init; }

        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = new Dictionary<string, string?>();
                if (Days is { } d) settings["RunMonitor:RetentionDays"] = d.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (WithWebhook) settings["RunMonitor:Webhooks:0:Url"] = "http://127.0.0.1:9/hook";
                return settings;
            }
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(s => s.AddSingleton<IRunPurgeListener>(Listener));
        }
    }

    public sealed class RecordingListener : IRunPurgeListener
    {
        public List<string> Before { get; } = [];
        public List<string> After { get; } = [];
        public long StepsSeenInTransaction { get; private set; }

        /// Thrown inside the delete's transaction when set: a pass that meets an error.
        public Exception? Throw { get; set; }

        public async Task BeforeDeleteAsync(DbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs, CancellationToken ct)
        {
            if (Throw is { } e) throw e;
            Before.AddRange(runs.Select(r => r.Id));
            StepsSeenInTransaction += await connection.ExecuteScalarAsync<long>(connection.Lists("SELECT COUNT(*) FROM steps WHERE run_id IN @Ids"),
                new { Ids = runs.Select(r => r.Id).ToArray() }, tx);
        }

        public Task AfterDeleteAsync(IReadOnlyList<DeletedRun> runs, CancellationToken ct)
        {
            After.AddRange(runs.Select(r => r.Id));
            return Task.CompletedTask;
        }
    }

    private async Task<string> CreateAsync(string status, string? workflow = null, bool withStep = false)
    {
        var run = await _factory.CreateClient().CreateRunAsync(new
        {
            workflowName = workflow ?? "retention", status,
            steps = withStep ? new[] { new { stepId = "s1", skillId = "k" } } : null,
            errors = status == "failed" ? new[] { new { topic = "t", error = "e", node = "n" } } : null,
        });
        return run.GetProperty("id").GetString()!;
    }

    private async Task<long> CountAsync(string table, string id)
    {
        await using var connection = await _factory.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE {(table == "runs" ? "id" : "run_id")} = @Id", new { Id = id });
    }

    [Fact]
    public async Task Purge_FinishedRunsOlderThanRetention_DeletedWithStepsAndErrors()
    {
        var oldCompleted = await CreateAsync("completed", withStep: true);
        var oldFailed = await CreateAsync("failed");
        var oldRunning = await CreateAsync("running");
        _factory.Clock.Advance(TimeSpan.FromDays(29));
        var recent = await CreateAsync("completed");
        _factory.Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await CountAsync("run_errors", oldFailed));

        var record = await _factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(2, record!.RunsDeleted);
        Assert.Equal(1, record.StepsDeleted);
        Assert.Equal(0, await CountAsync("runs", oldCompleted));
        Assert.Equal(0, await CountAsync("steps", oldCompleted));
        Assert.Equal(0, await CountAsync("run_errors", oldFailed));
        Assert.Equal(1, await CountAsync("runs", oldRunning));
        Assert.Equal(1, await CountAsync("runs", recent));
        Assert.Equal(new[] { oldCompleted, oldFailed }.Order(), _factory.Listener.Before.Order());
        Assert.Equal(_factory.Listener.Before.Order(), _factory.Listener.After.Order());
        Assert.Equal(1, _factory.Listener.StepsSeenInTransaction);
    }

    [Fact]
    public async Task Purge_RunWithArtifacts_DeletesFilesNoKeptRunNames()
    {
        var client = _factory.CreateClient();
        var old = await CreateAsync("completed", withStep: true);
        _factory.Clock.Advance(TimeSpan.FromDays(31));
        var kept = await CreateAsync("completed", withStep: true);
        async Task<string> UploadAsync(string runId, string name, string text)
        {
            var response = await client.PostAsync($"/api/runs/{runId}/steps/s1/artifacts?name={name}", new StringContent(text));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return (await response.JsonAsync()).GetProperty("sha256").GetString()!;
        }
        var onlyOld = await UploadAsync(old, "only-old.txt", "bytes only the old run has");
        var shared = await UploadAsync(old, "shared.txt", "bytes both runs have");
        await UploadAsync(kept, "shared.txt", "bytes both runs have");
        Assert.Equal(1, await _factory.StoredCopiesAsync(onlyOld));

        var record = await _factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(1, record!.RunsDeleted);
        Assert.Equal(0, await _factory.StoredCopiesAsync(onlyOld));
        Assert.Equal(1, await _factory.StoredCopiesAsync(shared));
        Assert.Equal(0, await CountAsync("artifacts", old));
        Assert.Equal(1, await CountAsync("artifacts", kept));
    }

    [Fact]
    public async Task Purge_ManyRuns_DeletesInBatches()
    {
        var client = _factory.CreateClient();
        for (var i = 0; i < RunPurger.BatchSize + 5; i++) await client.CreateRunAsync(new { workflowName = "bulk", status = "completed" });
        _factory.Clock.Advance(TimeSpan.FromDays(31));

        var record = await _factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(RunPurger.BatchSize + 5, record!.RunsDeleted);
        Assert.Equal(RunPurger.BatchSize + 5, _factory.Listener.After.Count);
    }

    /// A delivery's payload is a copy of its run: a purged run's deliveries go with it, pending or not; an alert event's
    /// (no run) go once sent or given up and older than the retention period.
    [Fact]
    public async Task Purge_RunsWebhookDeliveriesGoWithThem_OldSentEventDeliveriesToo()
    {
        using var factory = new RetentionFactory(_store) { WithWebhook = true };
        var client = factory.CreateClient();
        var old = (await client.CreateRunAsync(new { workflowName = "hooked", status = "failed" })).GetProperty("id").GetString()!;
        var database = factory.Services.GetRequiredService<Database>();
        async Task<long> DeliveriesAsync(string runId, string? status = null)
        {
            await using var connection = await database.OpenAsync();
            return await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE run_id = @RunId AND (@Status IS NULL OR status = @Status)", new { RunId = runId, Status = status });
        }
        async Task EventDeliveryAsync(string status, DateTimeOffset at) => await database.WriteAsync((connection, tx) => connection.ExecuteAsync("""
            INSERT INTO webhook_deliveries (run_id, tenant_id, event, webhook_index, url, payload, status, attempts, next_attempt_at, created_at)
            VALUES ('', '', 'alert.firing', 0, 'http://127.0.0.1:9/hook', '{}', @Status, 1, @At, @At)
            """, new { Status = status, At = DbTime.ToDb(at) }, tx));
        await EventDeliveryAsync(WebhookOutbox.Delivered, factory.Clock.GetUtcNow());
        await EventDeliveryAsync(WebhookOutbox.Failed, factory.Clock.GetUtcNow());
        await EventDeliveryAsync(WebhookOutbox.Pending, factory.Clock.GetUtcNow());
        factory.Clock.Advance(TimeSpan.FromDays(29));
        var recent = (await client.CreateRunAsync(new { workflowName = "hooked", status = "completed" })).GetProperty("id").GetString()!;
        await EventDeliveryAsync(WebhookOutbox.Delivered, factory.Clock.GetUtcNow());
        factory.Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await DeliveriesAsync(old));
        Assert.Equal(4, await DeliveriesAsync(""));

        await factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(0, await DeliveriesAsync(old));
        Assert.Equal(1, await DeliveriesAsync(recent));
        // The old pending one is still being tried; the recent sent one is inside the period.
        Assert.Equal(1, await DeliveriesAsync("", WebhookOutbox.Pending));
        Assert.Equal(1, await DeliveriesAsync("", WebhookOutbox.Delivered));
        Assert.Equal(0, await DeliveriesAsync("", WebhookOutbox.Failed));
    }

    /// A bulk operation that ended before the cutoff goes with its items (one of many runs a range a transaction); one
    /// that ended inside the period stays.
    [Fact]
    public async Task Purge_BulkOperationsEndedBeforeTheCutoffGoWithTheirItems()
    {
        var client = _factory.CreateClient();
        var database = _factory.Services.GetRequiredService<Database>();
        async Task<long> BulkAsync(string status, string? completedAt, int items)
        {
            var now = DbTime.ToDb(_factory.Clock.GetUtcNow());
            return await database.WriteAsync(async (connection, tx) =>
            {
                var id = await connection.ExecuteScalarAsync<long>("""
                    INSERT INTO bulk_operations (tenant_id, action, status, matched, eligible, created_by, created_at, completed_at)
                    VALUES ('default', 'cancel', @Status, @Items, @Items, 'test', @Now, @CompletedAt) RETURNING id
                    """, new { Status = status, Items = items, Now = now, CompletedAt = completedAt }, tx);
                await connection.ExecuteAsync("INSERT INTO bulk_items (operation_id, seq, tenant_id, run_id, state) VALUES (@Id, @Seq, 'default', @RunId, 'done')",
                    Enumerable.Range(0, items).Select(i => new { Id = id, Seq = (long)i, RunId = $"r{i}" }), tx);
                return id;
            });
        }
        async Task<long> ItemsAsync(long id)
        {
            await using var connection = await database.OpenAsync();
            return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM bulk_items WHERE operation_id = @Id", new { Id = id });
        }
        var queued = await CreateAsync("queued");
        var cancelled = await Bulk.BulkCalls.StartAsync(client, new { action = "cancel", ids = new[] { queued }, expectedCount = 1 });
        Assert.Equal("completed", (await Bulk.BulkCalls.WaitAsync(client, cancelled)).GetProperty("status").GetString());
        var large = await BulkAsync("stopped", DbTime.ToDb(_factory.Clock.GetUtcNow()), 2 * RunMonitor.Web.Bulk.BulkStore.PurgeItemsBatch + 1);
        var small = new List<long>();
        for (var i = 0; i < RunMonitor.Web.Bulk.BulkStore.PurgeOperationsBatch + 20; i++)
            small.Add(await BulkAsync("completed", DbTime.ToDb(_factory.Clock.GetUtcNow()), 2));
        _factory.Clock.Advance(TimeSpan.FromDays(29));
        var recent = await BulkAsync("completed", DbTime.ToDb(_factory.Clock.GetUtcNow()), 2);
        _factory.Clock.Advance(TimeSpan.FromDays(2));

        await _factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync($"/api/bulk/{cancelled}")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await client.GetAsync($"/api/bulk/{large}")).StatusCode);
        Assert.Equal(0, await ItemsAsync(cancelled));
        Assert.Equal(0, await ItemsAsync(large));
        await using (var connection = await database.OpenAsync())
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(connection.Lists("SELECT COUNT(*) FROM bulk_operations WHERE id IN @Ids"), new { Ids = small.ToArray() }));
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(connection.Lists("SELECT COUNT(*) FROM bulk_items WHERE operation_id IN @Ids"), new { Ids = small.ToArray() }));
        }
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync($"/api/bulk/{recent}")).StatusCode);
        Assert.Equal(2, await ItemsAsync(recent));
    }

    /// A worker unseen since the cutoff is forgotten, with the hours counted before it; one seen since stays.
    [Fact]
    public async Task Purge_WorkersUnseenSinceTheCutoffAndOldHoursGo()
    {
        var client = _factory.CreateClient();
        var database = _factory.Services.GetRequiredService<Database>();
        async Task HourAsync(string name) => await database.WriteAsync((connection, tx) => connection.ExecuteAsync(
            "INSERT INTO worker_hours (tenant_id, name, hour, claimed, failed) VALUES ('default', @Name, @Hour, 1, 0)",
            new { Name = name, Hour = DbTime.ToDb(_factory.Clock.GetUtcNow())[..13] }, tx));
        async Task<List<string>> ReadAsync(string sql)
        {
            await using var connection = await database.OpenAsync();
            return (await connection.QueryAsync<string>(sql)).ToList();
        }
        Assert.True((await client.PostAsJsonAsync("/api/workers/gone-worker/heartbeat", new { })).IsSuccessStatusCode);
        await HourAsync("gone-worker");
        _factory.Clock.Advance(TimeSpan.FromDays(29));
        Assert.True((await client.PostAsJsonAsync("/api/workers/kept-worker/heartbeat", new { })).IsSuccessStatusCode);
        await HourAsync("kept-worker");
        _factory.Clock.Advance(TimeSpan.FromDays(2));

        await _factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(["kept-worker"], await ReadAsync("SELECT name FROM workers ORDER BY name"));
        Assert.Equal(["kept-worker"], await ReadAsync("SELECT name FROM worker_hours ORDER BY name"));
    }

    /// Alert events recorded before the cutoff go, more than a batch of them over several transactions; a later one
    /// stays, and so does the rule's state however old. The passes' own records go by the same period.
    [Fact]
    public async Task Purge_AlertEventsAndPassRecordsOlderThanTheCutoffGo()
    {
        var database = _factory.Services.GetRequiredService<Database>();
        var purger = _factory.Services.GetRequiredService<RunPurger>();
        async Task<long> CountAsync(string sql)
        {
            await using var connection = await database.OpenAsync();
            return await connection.ExecuteScalarAsync<long>(sql);
        }
        var oldAt = DbTime.ToDb(_factory.Clock.GetUtcNow());
        await database.WriteAsync(async (connection, tx) =>
        {
            for (var i = 0; i < AlertEventRetention.PurgeBatch + 7; i++)
                await AlertStore.RecordAsync(connection, tx, new AlertEventRow { Rule = "flapping", TenantId = "default", State = i % 2 == 0 ? "firing" : "resolved", Value = 0.5, Threshold = 0.2, At = oldAt });
            await AlertStore.SaveStateAsync(connection, tx, new AlertStateRow { Rule = "flapping", TenantId = "default", State = "firing", Value = 0.5, Threshold = 0.2, EvaluatedAt = oldAt, ChangedAt = oldAt });
            return 0;
        });
        await purger.PurgeAsync();
        _factory.Clock.Advance(TimeSpan.FromDays(29));
        await database.WriteAsync((connection, tx) => AlertStore.RecordAsync(connection, tx,
            new AlertEventRow { Rule = "flapping", TenantId = "default", State = "resolved", Value = 0.1, Threshold = 0.2, At = DbTime.ToDb(_factory.Clock.GetUtcNow()) }));
        _factory.Clock.Advance(TimeSpan.FromDays(2));

        await purger.PurgeAsync();

        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM alert_events"));
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM alert_events WHERE state = 'resolved' AND value = 0.1"));
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM alert_states WHERE rule = 'flapping'"));
        // The first pass was 31 days ago, before the cutoff: only this one's record is left.
        Assert.Equal(1, await CountAsync("SELECT COUNT(*) FROM retention_purges"));
    }

    /// The store's own deletion of one run (`ArtifactStore.DeleteRunAsync`) takes its webhook deliveries with it too;
    /// another run's stay.
    [Fact]
    public async Task DeleteRun_ItsWebhookDeliveriesGoWithIt()
    {
        using var factory = new RetentionFactory(_store) { WithWebhook = true };
        var client = factory.CreateClient();
        var deleted = (await client.CreateRunAsync(new { workflowName = "hooked", status = "failed" })).GetProperty("id").GetString()!;
        var kept = (await client.CreateRunAsync(new { workflowName = "hooked", status = "completed" })).GetProperty("id").GetString()!;
        async Task<long> DeliveriesAsync(string runId)
        {
            await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
            return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_deliveries WHERE run_id = @RunId", new { RunId = runId });
        }
        Assert.Equal(1, await DeliveriesAsync(deleted));

        Assert.True(await factory.Services.GetRequiredService<ArtifactStore>().DeleteRunAsync(null, deleted));

        Assert.Equal(0, await DeliveriesAsync(deleted));
        Assert.Equal(1, await DeliveriesAsync(kept));
    }

    [Fact]
    public async Task Purge_IsRecordedAndShownOnAdmin()
    {
        await CreateAsync("completed");
        var before = await _factory.CreateClient().GetDocumentAsync("/admin");
        Assert.Equal("Has not run yet.", before.QuerySelector("#retention .retention-last").Text());
        _factory.Clock.Advance(TimeSpan.FromDays(31));

        await _factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        var last = await _factory.Services.GetRequiredService<RunPurger>().LastAsync();
        Assert.Equal(DbTime.ToDb(_factory.Clock.GetUtcNow()), last!.RanAt);
        Assert.Equal(1, last.RunsDeleted);
        var after = await _factory.CreateClient().GetDocumentAsync("/admin");
        var text = after.QuerySelector("#retention .retention-last").Text().Squash();
        Assert.StartsWith("Last ran", text);
        // The time runs straight into its colon ("Last ran now: removed"), no space before it.
        Assert.Matches(@"^Last ran \S.*\S: removed", text);
        Assert.DoesNotContain(" :", text);
        Assert.Contains("removed 1 run and 0 steps", text);
        Assert.Contains("30 days", after.QuerySelector("#retention").Text());
    }

    /// A pass that meets an error records why (the exception still goes on to the worker's log), /admin says it stopped
    /// and what it had removed, and the next pass finishes and is shown as before.
    [Fact]
    public async Task Purge_ThatFails_RecordedWithItsErrorAndShownOnAdmin_TheNextPassFinishes()
    {
        await CreateAsync("completed");
        _factory.Clock.Advance(TimeSpan.FromDays(31));
        var purger = _factory.Services.GetRequiredService<RunPurger>();
        _factory.Listener.Throw = new InvalidOperationException("the artifact volume is read-only.");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => purger.PurgeAsync());

        Assert.Equal("the artifact volume is read-only.", thrown.Message);
        var failed = (await _factory.CreateClient().GetDocumentAsync("/admin")).QuerySelector("#retention .retention-last")!;
        Assert.Contains("retention-failed", failed.ClassList);
        Assert.Matches(@"^Last ran \S.* and stopped before it finished \(InvalidOperationException: the artifact volume is read-only\), having removed 0 runs and 0 steps completed before .+\. The next pass tries again within the hour\.$",
            failed.Text().Squash());

        _factory.Listener.Throw = null;
        _factory.Clock.Advance(RetentionWorker.Interval);
        var next = await purger.PurgeAsync();

        Assert.Equal(1, next!.RunsDeleted);
        Assert.NotNull(next.FinishedAt);
        var shown = (await _factory.CreateClient().GetDocumentAsync("/admin")).QuerySelector("#retention .retention-last")!;
        Assert.DoesNotContain("retention-failed", shown.ClassList);
        Assert.Contains("removed 1 run and 0 steps", shown.Text().Squash());
    }

    /// A pass cut short by the instance shutting down says so, not that it failed on an error.
    [Fact]
    public async Task Purge_StoppedByShutdown_AdminSaysItsInstanceShutDown()
    {
        await CreateAsync("completed");
        _factory.Clock.Advance(TimeSpan.FromDays(31));
        _factory.Listener.Throw = new OperationCanceledException();

        await Assert.ThrowsAsync<OperationCanceledException>(() => _factory.Services.GetRequiredService<RunPurger>().PurgeAsync());

        var shown = (await _factory.CreateClient().GetDocumentAsync("/admin")).QuerySelector("#retention .retention-last")!.Text().Squash();
        Assert.Contains("stopped before it finished (stopped: its instance shut down), having removed 0 runs", shown);
    }

    [Fact]
    public async Task Purge_RetentionDaysConfigured_UsesIt()
    {
        using var factory = new RetentionFactory(_store) { Days = 2 };
        var run = await factory.CreateClient().CreateRunAsync(new { workflowName = "short", status = "completed" });
        factory.Clock.Advance(TimeSpan.FromDays(3));

        var record = await factory.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(1, record!.RunsDeleted);
        Assert.Equal(run.GetProperty("id").GetString(), factory.Listener.After.Single());
    }

    [Fact]
    public async Task Create_FinishedRunOlderThanRetention_400NamingCompletedAt_InsideItOrWithRetentionOff_Created()
    {
        using var kept30 = new RetentionFactory(_store);
        using var off = new RetentionFactory(_store) { Days = 0 };
        var now = kept30.Clock.GetUtcNow();
        object Run(string id, double daysAgo) => new { id, workflowName = "import", status = "completed", completedAt = now.AddDays(-daysAgo) };

        var old = await kept30.CreateClient().PostAsJsonAsync("/api/runs", Run("import-old", 31));
        var recent = await kept30.CreateClient().PostAsJsonAsync("/api/runs", Run("import-recent", 29));
        var keptAll = await off.CreateClient().PostAsJsonAsync("/api/runs", Run("import-old", 400));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, old.StatusCode);
        var problem = await old.JsonAsync();
        Assert.StartsWith("is more than 30 days ago: this store keeps finished runs for 30 days", problem.GetProperty("errors").GetProperty("completedAt")[0].GetString());
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await kept30.CreateClient().GetAsync("/api/runs/import-old")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Created, recent.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Created, keptAll.StatusCode);
    }

    [Fact]
    public async Task Purge_RetentionOff_KeepsEverything()
    {
        using var factory = new RetentionFactory(_store) { Days = 0 };
        await factory.CreateClient().CreateRunAsync(new { workflowName = "keep", status = "completed" });
        factory.Clock.Advance(TimeSpan.FromDays(400));

        Assert.Null(await factory.Services.GetRequiredService<RunPurger>().PurgeAsync());
        Assert.Contains("Retention is off", (await factory.CreateClient().GetDocumentAsync("/admin")).QuerySelector("#retention").Text());
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class RetentionTestsOnPostgres() : RetentionTests(TestStore.Postgres);
