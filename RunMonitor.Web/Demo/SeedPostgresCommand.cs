using Microsoft.Extensions.Logging.Abstractions;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Demo;

/// `seed --runs N` when the configured store is PostgreSQL: the runs are made into a temporary SQLite
/// store by the same bulk load, then moved with `copy-store` (binary COPY, one transaction), so both
/// engines get the same data the same way and an interrupted seed leaves the PostgreSQL store empty.
public static class SeedPostgresCommand
{
    public static async Task<int> RunAsync(string[] args, Database target, PriceTable prices, TimeProvider time, TextWriter output, TextWriter error)
    {
        if (!SeedCommand.TryParse(args, out _, out var problem))
        {
            await error.WriteLineAsync(problem);
            await error.WriteLineAsync("usage: seed --runs N   (N from 1 to 50,000,000)");
            return 2;
        }
        var directory = Path.Combine(Path.GetTempPath(), "runmonitor-seed-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        try
        {
            var staging = new Database(Path.Combine(directory, "seed.db"));
            await new MigrationRunner(staging, NullLogger<MigrationRunner>.Instance).ApplyAsync();
            await output.WriteLineAsync($"seeding a temporary SQLite store, then copying it into {target.Description}");
            var seeded = await SeedCommand.RunAsync(args, staging, prices, time, output, error);
            if (seeded != 0) return seeded;
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            return await CopyStoreCommand.RunAsync(["--from", staging.Path, "--to", target.ConnectionString], output, error);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }
}
