using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunMonitor.Tests.Data;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Demo;

/// `seed --runs N` loads with the triggers off and rebuilds what they would have kept: the counters,
/// rollups, daily usage and name search of a seeded store must equal what its runs say.
public sealed class SeedCommandTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rm-seed-" + Guid.NewGuid().ToString("N")[..12]);


    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private async Task<Database> MigratedAsync()
    {
        var database = new Database(Path.Combine(_directory, "runmonitor.db"));
        await new MigrationRunner(database, NullLogger<MigrationRunner>.Instance).ApplyAsync();
        return database;
    }

    private static Task<int> SeedAsync(Database database, int runs, TextWriter? output = null) =>
        SeedCommand.RunAsync(["seed", "--runs", runs.ToString(System.Globalization.CultureInfo.InvariantCulture)], database,
            new PriceTable(Options.Create(new PriceOptions())), new TestClock(Now), output ?? TextWriter.Null, TextWriter.Null);

    private static async Task AssertDerivedEqualRunsAsync(SqliteConnection connection)
    {
        foreach (var (kept, truth, what) in DerivedTablesTests.SqliteTables)
            DerivedRows.AssertSame(await DerivedRows.ReadAsync(connection, kept), await DerivedRows.ReadAsync(connection, truth), what);
        var name = await connection.ExecuteScalarAsync<string>("SELECT name FROM runs WHERE name LIKE 'Digest%' LIMIT 1");
        Assert.NotNull(name);
        Assert.Equal(
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE name = @name", new { name }),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs_name_fts WHERE runs_name_fts MATCH @q", new { q = "\"" + name + "\"" }));
    }

    // A partial run's errors that name no step of that run.
    private const string SelectStrayErrorNodes = """
        SELECT r.id || ' (' || r.workflow_name || '): ' || e.node FROM run_errors e
        JOIN runs r ON r.tenant_id = e.tenant_id AND r.id = e.run_id
        WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.tenant_id = e.tenant_id AND s.run_id = e.run_id AND s.step_id = e.node)
        """;

    [Fact]
    public async Task RunAsync_3000Runs_DerivedTablesAndSearchEqualTheRuns()
    {
        var database = await MigratedAsync();
        // As in the app: the writer has written (migrations) and a reader's connection waits idle in the pool.
        await (await database.OpenAsync()).DisposeAsync();

        var output = new StringWriter();
        var code = await SeedAsync(database, 3_000, output);

        Assert.Equal(0, code);
        // Nothing else held the file open, so the load ran on a rollback journal (it cannot leave WAL otherwise).
        Assert.Contains("journal_mode during the load: delete", output.ToString(), StringComparison.Ordinal);
        await using var connection = (SqliteConnection)await database.OpenAsync();
        Assert.Equal(3_000, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs"));
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT tenant_id) FROM runs"));
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM steps WHERE input IS NOT NULL AND output IS NOT NULL") > 3_000);
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM run_errors") > 0);
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE tokens_input IS NOT NULL AND cost_usd IS NOT NULL") > 0);
        await AssertDerivedEqualRunsAsync(connection);
        Assert.Empty(await connection.QueryAsync<string>(SelectStrayErrorNodes));
        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal("ok", await connection.ExecuteScalarAsync<string>("PRAGMA integrity_check"));
        Assert.Contains("done: 3,000 runs", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_IntoAStoreWithRuns_DerivedTablesCountBoth()
    {
        var database = await MigratedAsync();
        await SeedAsync(database, 500);

        var code = await SeedAsync(database, 700);

        Assert.Equal(0, code);
        await using var connection = (SqliteConnection)await database.OpenAsync();
        Assert.Equal(1_200, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs"));
        await AssertDerivedEqualRunsAsync(connection);
        // The triggers are back: a run written afterwards is counted as ingest counts it.
        await connection.ExecuteAsync("UPDATE runs SET status = 'failed' WHERE pk = (SELECT MIN(pk) FROM runs WHERE status = 'completed')");
        await AssertDerivedEqualRunsAsync(connection);
    }
}
