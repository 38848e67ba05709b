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

    // A first write that holds the writer path until `release` is set, so the writes queued after it share the next batch.
    private Task<int> HoldWriter(TaskCompletionSource release, string sql, bool oneRun = false)
    {
        async Task<int> Work(System.Data.Common.DbConnection c, System.Data.IDbTransaction tx)
        {
            await release.Task;
            return await c.ExecuteAsync(sql, transaction: tx);
        }
        return oneRun ? _database.WriteRunAsync(Work) : _database.WriteAsync(Work);
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
        var first = HoldWriter(gate, "INSERT INTO t (n) VALUES (1)");
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

    // Where the writer's savepoint journals go: 2 is MEMORY, 0 the default (files, as SQLite was built).
    private static Task<long> TempStore(System.Data.Common.DbConnection c, System.Data.IDbTransaction? tx) =>
        c.ExecuteScalarAsync<long>("PRAGMA temp_store", transaction: tx);

    [Fact]
    public async Task WriteRunAsync_BatchOfOneRunWrites_KeepsItsSavepointJournalsInMemory()
    {
        var oneRun = await _database.WriteRunAsync(TempStore);
        var other = await _database.WriteAsync(TempStore);
        var oneRunAgain = await _database.WriteRunAsync(TempStore);
        var statement = await _database.WriteStatementAsync(TempStore);

        Assert.Equal(2, oneRun);
        Assert.Equal(0, other);
        Assert.Equal(2, oneRunAgain);
        Assert.Equal(2, statement);
    }

    [Fact]
    public async Task WriteRunAsync_SharingABatchWithAnotherWrite_KeepsTheJournalsOnDisk()
    {
        var gate = new TaskCompletionSource();
        var first = HoldWriter(gate, "INSERT INTO t (n) VALUES (1)");
        var oneRun = _database.WriteRunAsync(TempStore);
        var other = _database.WriteAsync(TempStore);
        gate.SetResult();
        await first;

        Assert.Equal(0, await oneRun);
        Assert.Equal(0, await other);
    }

    [Fact]
    public async Task WriteRunAsync_OneThrowsAfterChangingManyPages_ItsChangesAreUndoneFromTheMemoryJournal()
    {
        // 2,000 rows of 200 bytes: about 100 pages, so the failing write's journal passes the 64 KiB SQLite keeps in
        // memory by default before it would move it to a file.
        await _database.WriteAsync((c, tx) => c.ExecuteAsync("ALTER TABLE t ADD COLUMN v TEXT", transaction: tx));
        await _database.WriteAsync((c, tx) => c.ExecuteAsync(
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 2000) INSERT INTO t (n, v) SELECT n, printf('%.200c', 'a') FROM k", transaction: tx));
        var gate = new TaskCompletionSource();
        var first = HoldWriter(gate, "UPDATE t SET v = 'first' WHERE n = 1", oneRun: true);
        var bad = _database.WriteRunAsync<int>(async (c, tx) =>
        {
            Assert.Equal(2, await TempStore(c, tx));
            await c.ExecuteAsync("UPDATE t SET v = printf('%.200c', 'b') WHERE n > 1", transaction: tx);
            throw new InvalidOperationException("boom");
        });
        var good = _database.WriteRunAsync((c, tx) => c.ExecuteAsync("UPDATE t SET v = 'good' WHERE n = 2", transaction: tx));
        gate.SetResult();

        await first;
        await good;
        Assert.Equal("boom", (await Assert.ThrowsAsync<InvalidOperationException>(() => bad)).Message);
        await using var connection = await _database.OpenAsync();
        Assert.Equal(1998, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t WHERE v = printf('%.200c', 'a')"));
        Assert.Equal(["first", "good"], (await connection.QueryAsync<string>("SELECT v FROM t WHERE n <= 2 ORDER BY n")).ToArray());
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t WHERE v LIKE 'b%'"));
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
