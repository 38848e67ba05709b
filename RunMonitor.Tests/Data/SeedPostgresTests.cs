using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Data;

/// `seed --runs N` with PostgreSQL configured: the runs arrive there, with their steps and exact counters.
public sealed class SeedPostgresTests : IDisposable
{
    private readonly string _connectionString = PostgresServer.CreateDatabase();

    public void Dispose() => PostgresServer.DropDatabase(_connectionString);

    [Fact]
    public async Task Seed_IntoPostgres_WritesTheRunsStepsAndCounters()
    {
        var database = Database.FromSetting(_connectionString, Path.GetTempPath());
        await new MigrationRunner(database, NullLogger<MigrationRunner>.Instance).ApplyAsync();
        var output = new StringWriter();
        var error = new StringWriter();
        // Another seed on the machine (a benchmark's) may hold a folder of its own meanwhile: only this one's must go.
        var before = Directory.GetDirectories(Path.GetTempPath(), "runmonitor-seed-*").ToHashSet();

        var exit = await SeedPostgresCommand.RunAsync(["seed", "--runs", "1500"], database,
            new PriceTable(Options.Create(new PriceOptions())), TimeProvider.System, output, error);

        Assert.True(exit == 0, error.ToString() + output);
        await using var connection = new NpgsqlConnection(_connectionString);
        Assert.Equal(1500, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs"));
        Assert.Equal(1500, await connection.ExecuteScalarAsync<long>("SELECT SUM(n) FROM run_counts"));
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM steps") > 1500);
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT tenant_id) FROM runs"));
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetTempPath(), "runmonitor-seed-*"), d => !before.Contains(d));
    }

    [Fact]
    public async Task Seed_BadRunCount_Exits2NamingTheArgument()
    {
        var database = Database.FromSetting(_connectionString, Path.GetTempPath());
        var error = new StringWriter();

        var exit = await SeedPostgresCommand.RunAsync(["seed", "--runs", "lots"], database,
            new PriceTable(Options.Create(new PriceOptions())), TimeProvider.System, TextWriter.Null, error);

        Assert.Equal(2, exit);
        Assert.Contains("--runs", error.ToString());
    }
}
