using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Runs;

/// Two "instances" (each its own Database, outbox and PostgresRunEvents) on one PostgreSQL database.
public sealed class PostgresRunEventsTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private readonly string _connectionString = PostgresServer.CreateDatabase();
    private readonly List<PostgresRunEvents> _started = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var events in _started)
        {
            await events.StopAsync(CancellationToken.None);
            events.Dispose();
        }
        PostgresServer.DropDatabase(_connectionString);
    }

    private sealed record Instance(Database Database, WebhookOutbox Outbox, PostgresRunEvents Events);

    private async Task<Instance> StartInstanceAsync()
    {
        var database = Database.FromSetting(_connectionString, Path.GetTempPath());
        var outbox = new WebhookOutbox(new FixedOptions<WebhookOptions>(new WebhookOptions()), PostgresDialect.Instance);
        var events = new PostgresRunEvents(database, outbox, NullLogger<PostgresRunEvents>.Instance);
        _started.Add(events);
        await events.StartAsync(CancellationToken.None);
        await UntilAsync(() => events.Connections >= 1, "the listener never connected");
        return new Instance(database, outbox, events);
    }

    private static async Task UntilAsync(Func<bool> done, string failure)
    {
        var until = DateTime.UtcNow + Patience;
        while (!done())
        {
            Assert.True(DateTime.UtcNow < until, failure);
            await Task.Delay(50);
        }
    }

    private static async Task<RunChange> NextAsync(IRunSubscription subscription)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await subscription.Changes.ReadAsync(timeout.Token);
    }

    /// A plain LISTEN on the channel keeping every notice as sent: what goes over the wire, not what an instance makes of it.
    private sealed class RawNotices : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        public ConcurrentQueue<string> Payloads { get; } = new();

        private RawNotices(string connectionString)
        {
            _connection = new NpgsqlConnection(connectionString);
            _connection.Notification += (_, e) => Payloads.Enqueue(e.Payload);
        }

        public static async Task<RawNotices> ListenAsync(string connectionString)
        {
            var notices = new RawNotices(connectionString);
            await notices._connection.OpenAsync();
            await using var listen = new NpgsqlCommand($"LISTEN {PostgresRunEvents.Channel}", notices._connection);
            await listen.ExecuteNonQueryAsync();
            return notices;
        }

        /// The runs of every notice so far, in the order they came.
        public List<string> Runs() => Payloads.SelectMany(p => JsonNode.Parse(p)!["runs"]!.AsArray().Select(r => (string)r!["runId"]!)).ToList();

        /// Waits (within the tests' patience) until the notices name `count` runs.
        public async Task UntilRunsAsync(int count)
        {
            var until = DateTime.UtcNow + Patience;
            while (Runs().Count < count && DateTime.UtcNow < until) await _connection.WaitAsync(TimeSpan.FromMilliseconds(200));
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }

    [Fact]
    public async Task Publish_OnA_ReachesSubscribersOnBThroughNotify_AndOnAOnceWithoutEcho()
    {
        var a = await StartInstanceAsync();
        var b = await StartInstanceAsync();
        using var onA = a.Events.Subscribe("run-1");
        using var onB = b.Events.Subscribe("run-1");
        using var otherRunOnB = b.Events.Subscribe("run-2");
        var commitsOnB = b.Database.Commits;

        a.Events.Publish(new RunChange("run-1", "acme", "running"));
        var local = await NextAsync(onA);
        var remote = await NextAsync(onB);
        // B answers; once A hears it, any echo of A's own notice (sent before it) would have arrived too.
        b.Events.Publish(new RunChange("run-1", "acme", "completed"));
        var answer = await NextAsync(onA);
        var bOwn = await NextAsync(onB);

        Assert.Equal(new RunChange("run-1", "acme", "running"), local);
        Assert.Equal(new RunChange("run-1", "acme", "running"), remote);
        Assert.Equal(new RunChange("run-1", "acme", "completed"), answer);
        Assert.Equal("completed", bOwn.Status);
        Assert.False(onA.Changes.TryRead(out var echo), $"A heard {echo} again");
        Assert.False(onB.Changes.TryRead(out var extra), $"B heard {extra} again");
        Assert.False(otherRunOnB.Changes.TryRead(out _));
        Assert.True(b.Database.Commits > commitsOnB, "B's cached reads were not marked stale");
    }

    [Fact]
    public async Task Publish_TerminalStatusOnA_WakesBsWebhookDispatcher_NonTerminalDoesNot()
    {
        var a = await StartInstanceAsync();
        var b = await StartInstanceAsync();
        using var onB = b.Events.Subscribe("run-3");

        a.Events.Publish(new RunChange("run-3", "acme", "running"));
        await NextAsync(onB);
        var wokenByRunning = await b.Outbox.WaitAsync(TimeSpan.Zero, CancellationToken.None);
        a.Events.Publish(new RunChange("run-3", "acme", "failed"));
        var wokenByFailed = await b.Outbox.WaitAsync(Patience, CancellationToken.None);

        Assert.False(wokenByRunning);
        Assert.True(wokenByFailed);
    }

    [Fact]
    public async Task Listener_ConnectionKilled_ReconnectsCatchesUpAndDeliversLaterNotices()
    {
        var a = await StartInstanceAsync();
        var b = await StartInstanceAsync();
        using var onB = b.Events.Subscribe("run-4");
        var commitsOnB = b.Database.Commits;

        await using (var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @Name AND query LIKE 'LISTEN%'", admin);
            kill.Parameters.AddWithValue("Name", b.Events.ApplicationName);
            Assert.Equal(1L, (long)(await kill.ExecuteScalarAsync())!);
        }
        await UntilAsync(() => b.Events.Connections >= 2, "the listener did not reconnect");
        // Whatever was missed while disconnected: every subscriber re-reads, cached reads are stale.
        var catchUp = await NextAsync(onB);
        var commitsAfterReconnect = b.Database.Commits;
        a.Events.Publish(new RunChange("run-4", "acme", "completed"));
        var later = await NextAsync(onB);

        Assert.Equal(new RunChange("run-4", "", ""), catchUp);
        Assert.True(commitsAfterReconnect > commitsOnB);
        Assert.Equal(new RunChange("run-4", "acme", "completed"), later);
        Assert.Equal(1L, a.Events.Connections);
    }

    [Fact]
    public async Task StoreUnreachable_PublishNeverThrows_ListenerKeepsRetrying_StopIsPrompt()
    {
        // Nothing listens on port 9.
        var database = Database.FromSetting("Host=127.0.0.1;Port=9;Database=nowhere;Username=nobody;Timeout=1", Path.GetTempPath());
        using var events = new PostgresRunEvents(database, new WebhookOutbox(new FixedOptions<WebhookOptions>(new WebhookOptions()), PostgresDialect.Instance),
            NullLogger<PostgresRunEvents>.Instance);
        using var local = events.Subscribe("run-5");

        await events.StartAsync(CancellationToken.None);
        events.Publish(new RunChange("run-5", "acme", "running"));
        await Task.Delay(1500);
        var running = events.ExecuteTask is { IsCompleted: false };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await events.StopAsync(CancellationToken.None);
        watch.Stop();

        Assert.True(local.Changes.TryRead(out var heard));
        Assert.Equal("running", heard.Status);
        Assert.True(running, "the background loops ended (or crashed) while the store was unreachable");
        Assert.Equal(0L, events.Connections);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {watch.Elapsed}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // notices still queued go out before the host stops
    public async Task Publish_ManyAtOnce_AllReachTheOtherInstance_EvenIfThePublisherStopsRightAfter(bool stop)
    {
        var a = await StartInstanceAsync();
        var b = await StartInstanceAsync();
        var subscriptions = Enumerable.Range(0, 300).Select(i => b.Events.Subscribe($"run-many-{i}")).ToList();

        for (var i = 0; i < 300; i++) a.Events.Publish(new RunChange($"run-many-{i}", "acme", "completed"));
        if (stop) await a.Events.StopAsync(CancellationToken.None);

        foreach (var subscription in subscriptions)
        {
            Assert.Equal("completed", (await NextAsync(subscription)).Status);
            subscription.Dispose();
        }
    }

    /// Changes published together go out as notices of many runs, each under NOTIFY's limit of 8000 bytes, and every run
    /// reaches the other instance once, with its tenant and status.
    [Fact]
    public async Task Publish_ManyLongIdsAtOnce_FewerNoticesThanRunsUnderTheLimit_EveryRunArrives()
    {
        var a = await StartInstanceAsync();
        var b = await StartInstanceAsync();
        var ids = Enumerable.Range(0, 100).Select(i => $"{i:000}-" + new string('x', 124)).ToList();
        var subscriptions = ids.Select(b.Events.Subscribe).ToList();
        await using var notices = await RawNotices.ListenAsync(_connectionString);

        foreach (var id in ids) a.Events.Publish(new RunChange(id, "acme", "failed"));

        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal(new RunChange(ids[i], "acme", "failed"), await NextAsync(subscriptions[i]));
            subscriptions[i].Dispose();
        }
        await notices.UntilRunsAsync(ids.Count);
        Assert.Equal(ids, notices.Runs().Order());
        Assert.InRange(notices.Payloads.Count, 3, ids.Count - 1);
        Assert.All(notices.Payloads, p => Assert.True(Encoding.UTF8.GetByteCount(p) < 8000, $"a notice of {Encoding.UTF8.GetByteCount(p)} bytes"));
    }

    /// Changes published one after another over a moment go out in a batch every `SendInterval` (10 ms) at most, not in
    /// a notice each: under ingest a notice went out for every group of creates, a statement and a commit beside its own.
    [Fact]
    public async Task Publish_OneAfterAnotherOverAMoment_GoesOutInBatchesOfTheInterval()
    {
        var a = await StartInstanceAsync();
        await using var notices = await RawNotices.ListenAsync(_connectionString);

        // One change every 2 ms: a batch sent at once would take one or two of them.
        var published = await PublishPacedAsync(a.Events, 100, TimeSpan.FromMilliseconds(2), "run-paced");

        await notices.UntilRunsAsync(100);
        Assert.Equal(100, notices.Runs().Distinct().Count());
        Assert.InRange(notices.Payloads.Count, 1, (int)(published.TotalMilliseconds / 10) + 5);
    }

    /// Publishes `count` changes `every` apart from a thread of its own (spinning on a pool thread would hold up the
    /// sender's); the time it took.
    private static Task<TimeSpan> PublishPacedAsync(PostgresRunEvents events, int count, TimeSpan every, string prefix) =>
        Task.Factory.StartNew(() =>
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                events.Publish(new RunChange($"{prefix}-{i}", "acme", "running"));
                var next = every * (i + 1);
                while (watch.Elapsed < next) Thread.SpinWait(100);
            }
            return watch.Elapsed;
        }, TaskCreationOptions.LongRunning);

    /// The notices go out on one connection kept from batch to batch; when it is lost, the next batch opens another.
    [Fact]
    public async Task Sender_ConnectionKilled_TheNextBatchGoesOutOnANewOne()
    {
        var a = await StartInstanceAsync();
        var b = await StartInstanceAsync();
        using var onB = b.Events.Subscribe("run-sent");
        a.Events.Publish(new RunChange("run-sent", "acme", "running"));
        Assert.Equal("running", (await NextAsync(onB)).Status);

        await using (var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = @Database AND query LIKE 'SELECT pg_notify(%'
                """, admin);
            kill.Parameters.AddWithValue("Database", new NpgsqlConnectionStringBuilder(_connectionString).Database!);
            Assert.Equal(1L, (long)(await kill.ExecuteScalarAsync())!);
        }
        a.Events.Publish(new RunChange("run-sent", "acme", "completed"));

        Assert.Equal("completed", (await NextAsync(onB)).Status);
    }

    /// An instance of the version before notices of many runs sent one notice a run; this version still reads those.
    [Fact]
    public async Task Notice_OfOneRunFromAnOlderInstance_ReachesSubscribersAndWakesTheDispatcher()
    {
        var b = await StartInstanceAsync();
        using var onB = b.Events.Subscribe("run-old");
        await using var older = new NpgsqlConnection(_connectionString);
        await older.OpenAsync();

        await using (var notify = new NpgsqlCommand($"SELECT pg_notify('{PostgresRunEvents.Channel}', @Payload)", older))
        {
            notify.Parameters.AddWithValue("Payload", """{"instance":"older","runId":"run-old","tenantId":"acme","status":"failed"}""");
            await notify.ExecuteNonQueryAsync();
        }

        Assert.Equal(new RunChange("run-old", "acme", "failed"), await NextAsync(onB));
        Assert.True(await b.Outbox.WaitAsync(Patience, CancellationToken.None));
    }

    [Fact]
    public void AddRunEvents_PostgresStore_OneListenerServesEventsAndRunsHosted_SqliteStaysInProcess()
    {
        var postgres = new ServiceCollection().AddLogging().AddSingleton(new WebhookOutbox(new FixedOptions<WebhookOptions>(new WebhookOptions()), PostgresDialect.Instance));
        postgres.AddSingleton(Database.FromSetting(_connectionString, Path.GetTempPath())).AddRunEvents(Database.FromSetting(_connectionString, Path.GetTempPath()));
        var sqlite = new ServiceCollection().AddRunEvents(new Database(Path.Combine(Path.GetTempPath(), "rm-events-" + Guid.NewGuid().ToString("N") + ".db")));
        using var postgresServices = postgres.BuildServiceProvider();
        using var sqliteServices = sqlite.BuildServiceProvider();

        var events = postgresServices.GetRequiredService<IRunEvents>();

        Assert.IsType<PostgresRunEvents>(events);
        Assert.Same(events, Assert.Single(postgresServices.GetServices<IHostedService>()));
        Assert.IsType<InProcessRunEvents>(sqliteServices.GetRequiredService<IRunEvents>());
        Assert.Empty(sqliteServices.GetServices<IHostedService>());
    }
}
