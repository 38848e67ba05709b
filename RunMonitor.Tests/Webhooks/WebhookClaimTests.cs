using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Webhooks;

/// Taking webhook work is a claim, so dispatchers of several instances never send one delivery twice.
public sealed class WebhookClaimTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _postgres = PostgresServer.CreateDatabase();
    private readonly string _sqliteDirectory = Path.Combine(Path.GetTempPath(), "rm-claims-" + Guid.NewGuid().ToString("N")[..12]);

    private const string InsertDue = """
        INSERT INTO webhook_deliveries (run_id, tenant_id, event, webhook_index, url, payload, status, attempts, next_attempt_at, created_at)
        VALUES (@RunId, 'acme', 'run.completed', 0, 'http://127.0.0.1:9/hook', '{}', 'pending', 0, @Due, @Due)
        """;

    public Task InitializeAsync() => MigratedAsync(PostgresDatabase());

    public Task DisposeAsync()
    {
        PostgresServer.DropDatabase(_postgres);
        if (Directory.Exists(_sqliteDirectory)) Directory.Delete(_sqliteDirectory, recursive: true);
        return Task.CompletedTask;
    }

    private Database PostgresDatabase() => Database.FromSetting(_postgres, Path.GetTempPath());

    private Task<Database> SqliteDatabaseAsync() => MigratedAsync(new Database(Path.Combine(_sqliteDirectory, "runmonitor.db")));

    private static async Task<Database> MigratedAsync(Database database)
    {
        await new MigrationRunner(database, NullLogger<MigrationRunner>.Instance).ApplyAsync();
        return database;
    }

    private static Task InsertDueAsync(Database database, int count) =>
        database.WriteAsync((connection, tx) => connection.ExecuteAsync(InsertDue,
            Enumerable.Range(0, count).Select(i => new { RunId = $"run-{i}", Due = DbTime.ToDb(Now.AddSeconds(-count + i)) }), tx));

    private static async Task<List<long>> ClaimAllAsync(Database database)
    {
        var taken = new List<long>();
        while (await WebhookDispatcher.ClaimAsync(database, Now, CancellationToken.None) is { Count: > 0 } claimed)
        {
            Assert.InRange(claimed.Count, 1, 20); // one pass takes at most its batch
            taken.AddRange(claimed.Select(d => d.Id));
        }
        return taken;
    }

    [Fact]
    public async Task ClaimAsync_TwoInstancesConcurrently_TakeEveryDueRowExactlyOnce()
    {
        var first = PostgresDatabase();
        var second = PostgresDatabase();
        await InsertDueAsync(first, 50);

        var claims = await Task.WhenAll(Task.Run(() => ClaimAllAsync(first)), Task.Run(() => ClaimAllAsync(second)));

        Assert.Empty(claims[0].Intersect(claims[1]));
        Assert.Equal(50, claims[0].Union(claims[1]).Count());
        Assert.Equal(50, claims[0].Count + claims[1].Count);
    }

    [Fact]
    public async Task ClaimAsync_WhileAnotherClaimIsUncommitted_SkipsItsRowsWithoutWaiting()
    {
        var first = PostgresDatabase();
        var second = PostgresDatabase();
        await InsertDueAsync(first, 50);
        var held = new TaskCompletionSource<IReadOnlyList<WebhookDeliveryRow>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = first.WriteAsync(async (connection, tx) =>
        {
            held.SetResult(await WebhookOutbox.ClaimDueAsync(first.Dialect, connection, tx, Now, WebhookDispatcher.ClaimPeriod, 20));
            await release.Task;
            return 0;
        });
        var heldRows = await held.Task;

        var other = await WebhookDispatcher.ClaimAsync(second, Now, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        release.SetResult();
        await holding;

        Assert.Equal(20, heldRows.Count);
        Assert.Equal(20, other.Count);
        Assert.Empty(heldRows.Select(d => d.Id).Intersect(other.Select(d => d.Id)));
    }

    [Theory]
    [InlineData(StoreProvider.Sqlite)]
    [InlineData(StoreProvider.Postgres)]
    public async Task ClaimAsync_ClaimedRows_AreNotDueAgainUntilTheClaimPeriodEnds(StoreProvider provider)
    {
        var database = provider == StoreProvider.Postgres ? PostgresDatabase() : await SqliteDatabaseAsync();
        await InsertDueAsync(database, 3);

        var claimed = await WebhookDispatcher.ClaimAsync(database, Now, CancellationToken.None);
        var again = await WebhookDispatcher.ClaimAsync(database, Now + WebhookDispatcher.ClaimPeriod - TimeSpan.FromSeconds(1), CancellationToken.None);
        var afterClaim = await WebhookDispatcher.ClaimAsync(database, Now + WebhookDispatcher.ClaimPeriod, CancellationToken.None);

        Assert.Equal(new[] { "run-0", "run-1", "run-2" }, claimed.Select(d => d.RunId));
        Assert.All(claimed, d => Assert.Equal(DbTime.ToDb(Now + WebhookDispatcher.ClaimPeriod), d.NextAttemptAt));
        Assert.All(claimed, d => Assert.Equal(0, d.Attempts));
        Assert.Empty(again);
        Assert.Equal(claimed.Select(d => d.Id), afterClaim.Select(d => d.Id));
    }

    private const string CountAttempted = "SELECT COUNT(*) FROM webhook_deliveries WHERE attempts >= @Attempts";
    private const string CountDelivered = "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'";

    private static async Task UntilAsync(Func<bool> done)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < until, "nothing happened in 30 s");
            await Task.Delay(20);
        }
    }

    private static async Task UntilCountAsync(Database database, string sql, object? parameters, long expected)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var connection = await database.OpenAsync();
            var count = await connection.ExecuteScalarAsync<long>(sql, parameters);
            if (count >= expected) return;
            Assert.True(DateTime.UtcNow < until, $"{count} of {expected} rows after 30 s: {sql}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Dispatchers_OnTwoInstances_SendEachDeliveryOncePerAttempt()
    {
        // Answers 500 to a delivery's first attempt, 200 after, each a second late: sends overlap the other dispatcher's passes.
        await using var receiver = new WebhookReceiver { Delay = TimeSpan.FromSeconds(1) };
        await receiver.StartAsync();
        var first = PostgresDatabase();
        var second = PostgresDatabase();
        const int count = 30;
        await first.WriteAsync((connection, tx) => connection.ExecuteAsync(
            InsertDue.Replace("'http://127.0.0.1:9/hook', '{}'", "@Url, @Payload", StringComparison.Ordinal),
            Enumerable.Range(0, count).Select(i => new { RunId = $"run-{i}", Due = DbTime.ToDb(Now), receiver.Url, Payload = $"{{\"n\":{i}}}" }), tx));
        var clock = new TestClock(Now);
        var options = new FixedOptions<WebhookOptions>(new WebhookOptions { Webhooks = [new WebhookConfig { Url = receiver.Url, Secret = "s" }] });
        var services = new ServiceCollection();
        services.AddHttpClient(WebhookDispatcher.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>();
        using var one = new WebhookDispatcher(first, new WebhookOutbox(options, first.Dialect), http, clock, NullLogger<WebhookDispatcher>.Instance);
        using var two = new WebhookDispatcher(second, new WebhookOutbox(options, first.Dialect), http, clock, NullLogger<WebhookDispatcher>.Instance);

        await one.StartAsync(CancellationToken.None);
        await UntilAsync(() => !receiver.Received.IsEmpty); // one is sending what it claimed
        await two.StartAsync(CancellationToken.None);
        await UntilCountAsync(first, CountAttempted, new { Attempts = 1 }, count);
        await Task.Delay(receiver.Delay * 2); // a second send of a delivery, were there one, would have arrived
        var firstRound = receiver.Received.Count;
        clock.Advance(TimeSpan.FromMinutes(1)); // past the first back-off
        await UntilCountAsync(first, CountDelivered, null, count);
        await Task.WhenAll(one.StopAsync(CancellationToken.None), two.StopAsync(CancellationToken.None));

        Assert.Equal(count, firstRound);
        var received = receiver.Received.GroupBy(r => r.Body).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(count, received.Count);
        Assert.All(received, r => Assert.Equal(2, r.Value)); // the failed first attempt and the delivered second, nothing twice
    }
}
