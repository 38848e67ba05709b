using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// "A 2xx answer means the write is committed": SQLite syncs every commit (synchronous=FULL) unless
/// RunMonitor:Durability=relaxed, which syncs at checkpoints only.
public sealed class DurabilityTests
{
    private static async Task<long> SynchronousAsync(RunMonitorFactory factory)
    {
        factory.CreateClient();
        var database = factory.Services.GetRequiredService<Database>();
        // The writer path opens its own connection the same way; a write first, so both kinds have been opened.
        await database.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE schema_version SET name = name WHERE version = 1", transaction: tx));
        await using var connection = await database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("PRAGMA synchronous");
    }

    [Fact]
    public async Task Default_IsFull()
    {
        using var factory = new DurabilityFactory(null);

        Assert.Equal(2, await SynchronousAsync(factory));
        Assert.Equal(Durability.Full, factory.Services.GetRequiredService<Database>().Durability);
    }

    [Theory]
    [InlineData("relaxed", 1)]
    [InlineData("Relaxed", 1)]
    [InlineData("full", 2)]
    public async Task Setting_ChoosesTheSync(string setting, long expected)
    {
        using var factory = new DurabilityFactory(setting);

        Assert.Equal(expected, await SynchronousAsync(factory));
    }

    [Fact]
    public void Setting_Unknown_StopsStartUpNamingIt()
    {
        using var factory = new DurabilityFactory("fast");

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(Database.DurabilitySetting, error.ToString());
    }

    [Fact]
    public async Task UnpooledConnection_HasTheStoresSync()
    {
        var path = Path.Combine(Path.GetTempPath(), "rm-durability-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            using var database = new Database(path, Durability.Relaxed);
            await using var connection = await database.OpenUnpooledAsync();

            Assert.Equal(1, await connection.ExecuteScalarAsync<long>("PRAGMA synchronous"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    private sealed class DurabilityFactory(string? durability) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings =>
            durability is null ? new Dictionary<string, string?>() : new Dictionary<string, string?> { [Database.DurabilitySetting] = durability };
    }
}
