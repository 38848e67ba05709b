using System.Net;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Bulk;

/// A bulk operation is rows in the store: a host stopped in the middle of one leaves it to the next host on that store,
/// which completes it with no run acted on twice; on PostgreSQL two instances work one operation side by side.
public sealed class BulkDurabilityTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runmonitor-tests", "bulk-" + Guid.NewGuid().ToString("N"));

    public BulkDurabilityTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// The app on a store it does not own (a SQLite file, or a PostgreSQL database), with slow, small batches.
    private sealed class Host(string? sqlitePath, string? postgres, int batchSize, int pauseMs)
        : RunMonitorFactory(postgres ?? PostgresPlaceholder)
    {
        private const string PostgresPlaceholder = "Host=unused;Database=unused";

        protected override bool UseTestClock => false;

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Bulk:BatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RunMonitor:Bulk:PauseMilliseconds"] = pauseMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("RunMonitor:Database", sqlitePath ?? postgres);
        }
    }

    private static async Task<List<string>> FailedRunsAsync(HttpClient client, string workflow, int count) =>
        await BulkCalls.RunsAsync(client, workflow, "failed", count);

    private static async Task AssertEachRetriedOnceAsync(IServiceProvider services, IReadOnlyList<string> runs, long operationId)
    {
        await using var connection = await services.GetRequiredService<Database>().OpenAsync();
        var retries = (await connection.QueryAsync<(string RetryOf, long N)>(
            "SELECT retry_of AS RetryOf, COUNT(*) AS N FROM runs WHERE retry_of IS NOT NULL GROUP BY retry_of")).ToDictionary(r => r.RetryOf, r => r.N);
        Assert.All(runs, r => Assert.Equal(1, retries.GetValueOrDefault(r)));
        var bulkEntries = (await connection.QueryAsync<(string RunId, long N)>(
            "SELECT run_id AS RunId, COUNT(*) AS N FROM run_activity WHERE action = 'bulk' GROUP BY run_id")).ToDictionary(r => r.RunId, r => r.N);
        Assert.All(runs, r => Assert.Equal(1, bulkEntries.GetValueOrDefault(r)));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM bulk_items WHERE operation_id = @Id AND state = 'pending'", new { Id = operationId }));
    }

    private async Task StopMidOperation_NextHostCompletes(Func<Host> start)
    {
        const int runs = 60;
        List<string> failed;
        long id;
        var first = start();
        try
        {
            var client = first.CreateClient();
            failed = await FailedRunsAsync(client, "restart", runs);
            id = await BulkCalls.StartAsync(client, new { action = "retry", filter = new { workflow = "restart" }, expectedCount = runs });
            var partway = await BulkCalls.WaitAsync(client, id, until: o => o.GetProperty("done").GetInt64() >= 10);
            Assert.Equal("running", partway.GetProperty("status").GetString());
        }
        finally
        {
            // The host stops as a deploy stops it: the batch under way commits, nothing after it starts.
            await first.DisposeAsync();
        }

        await using var second = start();
        var again = second.CreateClient();
        var stopped = await (await again.GetAsync($"/api/bulk/{id}")).JsonAsync();
        Assert.True(stopped.GetProperty("done").GetInt64() < runs, "the first host was stopped before it finished");
        var done = await BulkCalls.WaitAsync(again, id, seconds: 60);

        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(runs, done.GetProperty("done").GetInt64());
        Assert.Equal(runs, done.GetProperty("succeeded").GetInt64());
        await AssertEachRetriedOnceAsync(second.Services, failed, id);
    }

    [Fact]
    public Task Sqlite_HostStoppedMidOperation_NextHostCompletesIt_NoRunRetriedTwice()
    {
        var path = Path.Combine(_directory, "runmonitor.db");
        return StopMidOperation_NextHostCompletes(() => new Host(path, null, batchSize: 3, pauseMs: 300));
    }

    [Fact]
    public async Task Postgres_HostStoppedMidOperation_NextHostCompletesIt_NoRunRetriedTwice()
    {
        var database = PostgresServer.CreateDatabase();
        try
        {
            await StopMidOperation_NextHostCompletes(() => new Host(null, database, batchSize: 3, pauseMs: 300));
        }
        finally
        {
            PostgresServer.DropDatabase(database);
        }
    }

    [Fact]
    public async Task Delete_RunningOperation_202Stopped_NoRunActedOnAfterwards()
    {
        await using var host = new Host(Path.Combine(_directory, "stop.db"), null, batchSize: 2, pauseMs: 300);
        var client = host.CreateClient();
        var failed = await FailedRunsAsync(client, "stop", 30);
        var id = await BulkCalls.StartAsync(client, new { action = "retry", filter = new { workflow = "stop" }, expectedCount = 30 });

        var stop = await client.DeleteAsync($"/api/bulk/{id}");
        var again = await client.DeleteAsync($"/api/bulk/{id}");

        Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
        var stopped = await stop.JsonAsync();
        Assert.Equal("stopped", stopped.GetProperty("status").GetString());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, stopped.GetProperty("completedAt").ValueKind);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        // A batch under way when the stop came still commits; nothing starts after it.
        var settled = await BulkCalls.WaitAsync(client, id, seconds: 5, until: _ => false);
        var later = await BulkCalls.WaitAsync(client, id, seconds: 2, until: _ => false);
        Assert.Equal(settled.GetProperty("done").GetInt64(), later.GetProperty("done").GetInt64());
        Assert.True(later.GetProperty("done").GetInt64() < 30);
        Assert.Equal("stopped", later.GetProperty("status").GetString());
        var retried = 0L;
        foreach (var run in failed) retried += await BulkCalls.RetriesOfAsync(host.Services, run);
        Assert.Equal(later.GetProperty("succeeded").GetInt64(), retried);
    }

    [Fact]
    public async Task Postgres_TwoInstances_WorkOneOperationTogether_EachRunRetriedOnce()
    {
        var database = PostgresServer.CreateDatabase();
        try
        {
            await using var a = new Host(null, database, batchSize: 4, pauseMs: 0);
            await using var b = new Host(null, database, batchSize: 4, pauseMs: 0);
            var clientA = a.CreateClient();
            var clientB = b.CreateClient();
            var failed = await FailedRunsAsync(clientA, "two-instances", 120);
            Assert.Equal(HttpStatusCode.OK, (await clientB.GetAsync("/api/bulk")).StatusCode);

            var id = await BulkCalls.StartAsync(clientB, new { action = "retry", filter = new { workflow = "two-instances" }, expectedCount = 120 });
            var done = await BulkCalls.WaitAsync(clientA, id, seconds: 60);

            Assert.Equal("completed", done.GetProperty("status").GetString());
            Assert.Equal(120, done.GetProperty("succeeded").GetInt64());
            await AssertEachRetriedOnceAsync(a.Services, failed, id);
        }
        finally
        {
            PostgresServer.DropDatabase(database);
        }
    }
}
