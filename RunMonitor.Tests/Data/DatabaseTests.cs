using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

public sealed class DatabaseTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "runmonitor-db-" + Guid.NewGuid().ToString("N") + ".db");
    private readonly Database _database;

    public DatabaseTests()
    {
        _database = new Database(_path);
        using var connection = _database.OpenAsync().GetAwaiter().GetResult();
        connection.Execute("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER PRIMARY KEY)");
    }

    [Fact]
    public async Task WriteAsync_ManyConcurrent_AllCommittedWhenTheyReturn()
    {
        var writes = Enumerable.Range(1, 400).Select(n => Task.Run(() => _database.WriteAsync(
            (c, tx) => c.ExecuteAsync("INSERT INTO t (n) VALUES (@n)", new { n }, tx))));

        var results = await Task.WhenAll(writes);

        Assert.All(results, r => Assert.Equal(1, r));
        await using var connection = await _database.OpenAsync();
        Assert.Equal(400, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t"));
    }

    [Fact]
    public async Task WriteAsync_OneThrowsInABatch_OnlyItIsUndone()
    {
        var gate = new TaskCompletionSource();
        // The first write holds the writer path until the others are queued behind it, so they share a batch.
        var first = _database.WriteAsync(async (c, tx) => { await gate.Task; return await c.ExecuteAsync("INSERT INTO t (n) VALUES (1)", transaction: tx); });
        var good = _database.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (n) VALUES (2)", transaction: tx));
        var bad = _database.WriteAsync<int>(async (c, tx) =>
        {
            await c.ExecuteAsync("INSERT INTO t (n) VALUES (3)", transaction: tx);
            throw new InvalidOperationException("boom");
        });
        var alsoGood = _database.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (n) VALUES (4)", transaction: tx));
        gate.SetResult();

        await first;
        await good;
        await alsoGood;
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bad);

        Assert.Equal("boom", error.Message);
        await using var connection = await _database.OpenAsync();
        var rows = (await connection.QueryAsync<long>("SELECT n FROM t ORDER BY n")).ToArray();
        Assert.Equal(new long[] { 1, 2, 4 }, rows);
    }

    [Fact]
    public async Task WriteAsync_AfterCloseConnections_OpensItAgain()
    {
        await _database.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (n) VALUES (1)", transaction: tx));

        _database.CloseConnections();
        // With no other connection open the file is free: this one may change its journal mode.
        await using (var alone = await _database.OpenAsync())
        {
            Assert.Equal("delete", await alone.ExecuteScalarAsync<string>("PRAGMA journal_mode=DELETE"));
            Assert.Equal("wal", await alone.ExecuteScalarAsync<string>("PRAGMA journal_mode=WAL"));
        }
        await _database.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (n) VALUES (2)", transaction: tx));

        await using var connection = await _database.OpenAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t"));
    }

    [Fact]
    public async Task OpenAsync_AfterTheWriterClosed_PooledConnectionsHaveTheStoreSettingsNotTheWriters()
    {
        await _database.WriteAsync((c, tx) => c.ExecuteAsync("INSERT INTO t (n) VALUES (1)", transaction: tx));
        _database.CloseConnections();

        // Several at once, so the pool has to hand out every connection it keeps.
        var readers = new List<System.Data.Common.DbConnection>();
        for (var i = 0; i < 4; i++) readers.Add(await _database.OpenAsync());
        try
        {
            foreach (var reader in readers)
            {
                Assert.Equal(-2000, await reader.ExecuteScalarAsync<long>("PRAGMA cache_size"));
                Assert.Equal(1, await reader.ExecuteScalarAsync<long>("PRAGMA foreign_keys"));
                Assert.Equal(2, await reader.ExecuteScalarAsync<long>("PRAGMA synchronous"));
            }
        }
        finally
        {
            foreach (var reader in readers) await reader.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _database.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(_path + suffix);
    }
}
