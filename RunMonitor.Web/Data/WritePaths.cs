using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace RunMonitor.Web.Data;

/// How `Database.WriteAsync` reaches the store; the dialect chooses it (`ISqlDialect.WritePath`).
public interface IWritePath
{
    Task<T> WriteAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct);

    /// `Database.WriteStatementAsync`: work that writes in one statement where the dialect can; the transaction is
    /// null where the path runs it without one.
    Task<T> WriteStatementAsync<T>(Func<DbConnection, IDbTransaction?, Task<T>> work, CancellationToken ct);

    /// `Database.WriteRunAsync`: work bounded by one run's rows or an ingest request about a few runs, a bounded number of pages.
    Task<T> WriteRunAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct);

    /// Closes what the path keeps open, for work that needs the store to itself.
    void CloseConnections();
}

/// SQLite's one writer path. Writes that arrive while another batch commits are taken together (group commit): each
/// in its own savepoint, so one that throws is undone alone, and all of them committed by one COMMIT, which is what
/// ingest speed needs.
public sealed class GroupCommitWrites(Database database) : IWritePath
{
    // SQLite has one writer; queueing writers here keeps "database is locked" out of ingest.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public Task<T> WriteAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct) => WriteAsync(work, oneRun: false, ct);

    public Task<T> WriteRunAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct) => WriteAsync(work, oneRun: true, ct);

    private async Task<T> WriteAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, bool oneRun, CancellationToken ct)
    {
        var pending = new PendingWrite<T>(work, ct) { OneRun = oneRun };
        _queue.Enqueue(pending);
        await _writeGate.WaitAsync(ct);
        try
        {
            // Another writer may have taken this one into its batch while it waited; batches are taken in
            // arrival order, so leading until this one is done always reaches it.
            while (!pending.Done) await CommitBatchAsync();
        }
        finally
        {
            _writeGate.Release();
        }
        return await pending.Result;
    }

    // SQLite's statements share the batch's transaction, as any write's; the one statement is a create's.
    public Task<T> WriteStatementAsync<T>(Func<DbConnection, IDbTransaction?, Task<T>> work, CancellationToken ct) =>
        WriteAsync<T>((connection, tx) => work(connection, tx), oneRun: true, ct);

    private const int MaxBatch = 64;
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingWrite> _queue = new();

    private async Task CommitBatchAsync()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next)) batch.Add(next);
        if (batch.Count == 0) return;
        try
        {
            var connection = _writer ??= await OpenWriterAsync();
            await KeepJournalsInMemoryAsync(connection, batch.TrueForAll(w => w.OneRun));
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable);
            foreach (var write in batch)
            {
                if (write.Cancelled) continue;
                // Each write in its own savepoint; one name serves them all, since each is released before the next.
                await connection.ExecutePreparedAsync("SAVEPOINT w", null, transaction);
                try
                {
                    await write.RunAsync(connection, transaction);
                    await connection.ExecutePreparedAsync("RELEASE w", null, transaction);
                }
                catch (Exception e)
                {
                    await connection.ExecutePreparedAsync("ROLLBACK TO w", null, transaction);
                    await connection.ExecutePreparedAsync("RELEASE w", null, transaction);
                    write.Failed = e;
                }
            }
            await transaction.CommitAsync();
            database.NoteCommit();
            foreach (var write in batch) write.Complete();
        }
        catch (Exception e)
        {
            // Nothing of the batch is committed: every writer in it hears so. The writer connection may be what
            // failed; the next batch opens a new one.
            CloseWriter();
            foreach (var write in batch) write.Fail(e);
        }
    }

    // The writer's own connection, open while the app runs: it keeps the writer's compiled statements
    // (`PreparedStatements`), and a larger page cache for the indexes every insert walks. Only the writer path
    // (one batch at a time, behind the gate) touches it.
    private SqliteConnection? _writer;

    private async Task<SqliteConnection> OpenWriterAsync()
    {
        var connection = await database.OpenUnpooledAsync();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA cache_size=-{WriterCacheKib}; PRAGMA wal_autocheckpoint={CheckpointPages};";
            await pragma.ExecuteNonQueryAsync();
        }
        PreparedStatements.Keep(connection);
        return connection;
    }

    // 8 MiB (SQLite's default is 2): the upper levels and recent leaves of the runs table's indexes stay in the
    // writer's memory; more bought no ingest speed (docs/PERFORMANCE.md).
    private const int WriterCacheKib = 8 * 1024;

    // The writer copies the write-ahead log back into the file once it holds this many pages (40 MB), not
    // SQLite's default 1,000: every insert dirties the same few leaves of each index (and the counter and
    // rollup rows), so a longer log writes each back once for many commits instead of once every few.
    private const int CheckpointPages = 10_000;

    // Each write's savepoint journals the pages it changes; past 64 KiB SQLite moves that journal into a temporary file,
    // and one create changes about 20 pages (the run, its steps and activity, 17 indexes, the counters): 170 KB and 77
    // write calls a create, most of them that file's (docs/PERFORMANCE.md, "SQLite's savepoint journals"). A
    // batch of one-run writes keeps its journals in memory (`temp_store`): about 80 KB a create, a step's no more than
    // its body (Kestrel's 30 MB), a batch ingest request's when it names at most `BatchIngest.FewRuns` runs, one
    // savepoint's at a time (SQLite empties it at each release); any other batch (a retention pass deletes 500 runs with
    // up to 100,000 log lines each; an ingest request about 10,000 runs) keeps them on disk, as before.
    private bool _journalsInMemory;

    private async Task KeepJournalsInMemoryAsync(SqliteConnection connection, bool inMemory)
    {
        if (inMemory == _journalsInMemory) return;
        using var pragma = connection.CreateCommand();
        pragma.CommandText = inMemory ? "PRAGMA temp_store=MEMORY" : "PRAGMA temp_store=DEFAULT";
        await pragma.ExecuteNonQueryAsync();
        _journalsInMemory = inMemory;
    }

    private void CloseWriter()
    {
        if (_writer is null) return;
        _journalsInMemory = false;
        PreparedStatements.Forget(_writer);
        _writer.Dispose();
        _writer = null;
    }

    public void CloseConnections()
    {
        _writeGate.Wait();
        try
        {
            CloseWriter();
            using var pooled = new SqliteConnection(database.ConnectionString);
            SqliteConnection.ClearPool(pooled);
        }
        finally { _writeGate.Release(); }
    }


    private abstract class PendingWrite
    {
        public Exception? Failed { get; set; }
        /// Writes a bounded number of pages: one run's rows or an ingest request about a few runs (`WriteRunAsync`, `WriteStatementAsync`).
        public bool OneRun { get; init; }
        public abstract bool Done { get; }
        public abstract bool Cancelled { get; }
        public abstract Task RunAsync(DbConnection connection, IDbTransaction transaction);
        public abstract void Complete();
        public abstract void Fail(Exception e);
    }

    private sealed class PendingWrite<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _value;

        public Task<T> Result => _result.Task;
        public override bool Done => _result.Task.IsCompleted;
        public override bool Cancelled => ct.IsCancellationRequested;

        public override async Task RunAsync(DbConnection connection, IDbTransaction transaction) => _value = await work(connection, transaction);

        public override void Complete()
        {
            if (Cancelled && Failed is null) _result.TrySetCanceled(ct);
            else if (Failed is not null) _result.TrySetException(Failed);
            else _result.TrySetResult(_value!);
        }

        public override void Fail(Exception e) => _result.TrySetException(e);
    }
}

/// PostgreSQL: each write is its own READ COMMITTED transaction, run concurrently; one that meets a serialization
/// failure or a deadlock is rolled back and run again.
public sealed class RetriedWrites(Database database) : IWritePath
{
    private const int PostgresAttempts = 8;

    public Task<T> WriteAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct) =>
        RetriedAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(ct);
            return result;
        }, ct);

    public Task<T> WriteRunAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct) => WriteAsync(work, ct);

    /// One statement needs no BEGIN and COMMIT around it: it commits by itself, in the round trip that sends it.
    public Task<T> WriteStatementAsync<T>(Func<DbConnection, IDbTransaction?, Task<T>> work, CancellationToken ct) =>
        RetriedAsync(connection => work(connection, null), ct);

    /// As `WriteStatementAsync`, on a connection from `source` (the create groups' own pool) instead of the store's.
    public Task<T> WriteStatementAsync<T>(NpgsqlDataSource source, Func<DbConnection, Task<T>> work, CancellationToken ct) =>
        RetriedAsync(work, ct, source);

    private async Task<T> RetriedAsync<T>(Func<DbConnection, Task<T>> committed, CancellationToken ct, NpgsqlDataSource? source = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = source is null ? await database.OpenAsync(ct) : await source.OpenConnectionAsync(ct);
                var result = await committed(connection);
                database.NoteCommit();
                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                                              && attempt < PostgresAttempts)
            {
                await Task.Delay(Random.Shared.Next(1, 10 * attempt), ct);
            }
        }
    }

    public void CloseConnections() { }
}
