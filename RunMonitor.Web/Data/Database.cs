using System.Data;
using Microsoft.Data.Sqlite;

namespace RunMonitor.Web.Data;

/// The SQLite store: pooled connections for reads, one writer path with group commit for writes.
public sealed class Database
{
    private readonly string _connectionString;
    // SQLite has one writer; queueing writers here keeps "database is locked" out of ingest.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public Database(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    public async Task<SqliteConnection> OpenAsync(CancellationToken ct = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    /// Runs `work` in the one writer path and returns once it is committed. Writes that arrive while
    /// another batch commits are taken together (group commit): each in its own savepoint, so one that
    /// throws is undone alone, and all of them committed by one COMMIT, which is what ingest speed needs.
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, IDbTransaction, Task<T>> work, CancellationToken ct = default)
    {
        var pending = new PendingWrite<T>(work, ct);
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

    private long _commits;

    /// Moves on with every commit of the writer path: a cached read is current while it has not moved.
    public long Commits => Interlocked.Read(ref _commits);

    private const int MaxBatch = 64;
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingWrite> _queue = new();
    private long _savepoints;

    private async Task CommitBatchAsync()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next)) batch.Add(next);
        if (batch.Count == 0) return;
        try
        {
            await using var connection = await OpenAsync();
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable);
            foreach (var write in batch)
            {
                if (write.Cancelled) continue;
                var savepoint = "w" + Interlocked.Increment(ref _savepoints).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await transaction.SaveAsync(savepoint);
                try
                {
                    await write.RunAsync(connection, transaction);
                    await transaction.ReleaseAsync(savepoint);
                }
                catch (Exception e)
                {
                    await transaction.RollbackAsync(savepoint);
                    await transaction.ReleaseAsync(savepoint);
                    write.Failed = e;
                }
            }
            await transaction.CommitAsync();
            Interlocked.Increment(ref _commits);
            foreach (var write in batch) write.Complete();
        }
        catch (Exception e)
        {
            // Nothing of the batch is committed: every writer in it hears so.
            foreach (var write in batch) write.Fail(e);
        }
    }

    private abstract class PendingWrite
    {
        public Exception? Failed { get; set; }
        public abstract bool Done { get; }
        public abstract bool Cancelled { get; }
        public abstract Task RunAsync(SqliteConnection connection, IDbTransaction transaction);
        public abstract void Complete();
        public abstract void Fail(Exception e);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, IDbTransaction, Task<T>> work, CancellationToken ct) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _value;

        public Task<T> Result => _result.Task;
        public override bool Done => _result.Task.IsCompleted;
        public override bool Cancelled => ct.IsCancellationRequested;

        public override async Task RunAsync(SqliteConnection connection, IDbTransaction transaction) => _value = await work(connection, transaction);

        public override void Complete()
        {
            if (Cancelled && Failed is null) _result.TrySetCanceled(ct);
            else if (Failed is not null) _result.TrySetException(Failed);
            else _result.TrySetResult(_value!);
        }

        public override void Fail(Exception e) => _result.TrySetException(e);
    }
}
