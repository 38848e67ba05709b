using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace RunMonitor.Web.Data;

public enum StoreProvider { Sqlite, Postgres }

/// `RunMonitor:Durability`. Full (the default): a SQLite commit is synced to disk before its write is answered, so an
/// acknowledged write survives power loss or an OS crash. Relaxed: synced at checkpoints only; a process crash still
/// loses nothing, but power loss or an OS crash can roll back the last acknowledged commits.
public enum Durability { Full, Relaxed }

/// The store: a SQLite file (the default: pooled connections for reads, one writer path with group
/// commit for writes) or a PostgreSQL database that several instances share (a transaction per write,
/// concurrent, retried when PostgreSQL reports a serialization failure or a deadlock).
public sealed class Database : IDisposable
{
    private readonly string _connectionString;
    // SQLite has one writer; queueing writers here keeps "database is locked" out of ingest.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly NpgsqlDataSource? _postgres;

    /// `setting` is `RunMonitor:Database`: a PostgreSQL connection string (`Host=…;Database=…`), or a
    /// SQLite file path, relative paths against `baseDirectory`.
    public static Database FromSetting(string setting, string baseDirectory, Durability durability = Durability.Full) =>
        IsPostgresConnectionString(setting)
            ? new Database(StoreProvider.Postgres, setting)
            : new Database(System.IO.Path.IsPathRooted(setting) ? setting : System.IO.Path.Combine(baseDirectory, setting), durability);

    public const string DurabilitySetting = "RunMonitor:Durability";

    /// `full` (or nothing) or `relaxed`; anything else stops start-up with the setting's name.
    public static Durability ParseDurability(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "full" => Durability.Full,
        "relaxed" => Durability.Relaxed,
        _ => throw new InvalidOperationException($"{DurabilitySetting} must be full (the default) or relaxed, not '{value}'"),
    };

    /// A connection string names a host: `Host=`, `Server=` (keywords Npgsql accepts), never a file path.
    public static bool IsPostgresConnectionString(string setting)
    {
        if (!setting.Contains('=', StringComparison.Ordinal)) return false;
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = setting };
            return builder.ContainsKey("Host") || builder.ContainsKey("Server");
        }
        catch (ArgumentException) { return false; }
    }

    public Database(string path, Durability durability = Durability.Full) : this(StoreProvider.Sqlite, path, durability) { }

    private Database(StoreProvider provider, string setting, Durability durability = Durability.Full)
    {
        Provider = provider;
        Durability = durability;
        // WAL with synchronous=FULL syncs the log at every commit (one fsync per group commit of the writer path);
        // NORMAL syncs it only when a checkpoint copies it back into the file.
        _connectionPragmas = $"PRAGMA busy_timeout=10000; PRAGMA synchronous={(durability == Durability.Full ? "FULL" : "NORMAL")}; PRAGMA foreign_keys=ON;";
        if (provider == StoreProvider.Postgres)
        {
            var builder = new NpgsqlConnectionStringBuilder(setting);
            // The store runs a few dozen fixed statements: Npgsql prepares each on the server once it has been
            // used a few times on a connection, so PostgreSQL stops parsing and planning it anew (unless the
            // connection string says otherwise).
            if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 64;
            _connectionString = builder.ConnectionString;
            _postgres = NpgsqlDataSource.Create(_connectionString);
            Path = "";
            Description = $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
            return;
        }
        Path = System.IO.Path.GetFullPath(setting);
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
        Description = Path;
    }

    public StoreProvider Provider { get; }

    /// How far a SQLite commit is synced before its write is answered (PostgreSQL follows its server's synchronous_commit).
    public Durability Durability { get; }

    private readonly string _connectionPragmas;

    public bool IsPostgres => Provider == StoreProvider.Postgres;

    /// The SQLite file; empty for PostgreSQL.
    public string Path { get; }

    /// What a message names: the file, or the PostgreSQL database and server (never its password).
    public string Description { get; }

    public string ConnectionString => _connectionString;

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        if (_postgres is not null) return await _postgres.OpenConnectionAsync(ct);
        return await OpenSqliteAsync(_connectionString, ct);
    }

    /// A SQLite connection of its own, outside the pool: settings made on it (the writer's cache, the seed's
    /// bulk-load pragmas) end with it instead of passing to whoever the pool hands it to next.
    public Task<SqliteConnection> OpenUnpooledAsync(CancellationToken ct = default) =>
        _postgres is not null
            ? throw new InvalidOperationException("the store is PostgreSQL")
            : OpenSqliteAsync(new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString(), ct);

    private async Task<SqliteConnection> OpenSqliteAsync(string connectionString, CancellationToken ct)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(ct);
        // The settings belong to SQLite's connection, which the pool keeps open and hands out again: they are
        // made once per connection SQLite opened, not on every request's open.
        if (!Configured.TryGetValue(connection.Handle!, out var applied) || !ReferenceEquals(applied, _connectionPragmas))
        {
            using var pragma = connection.CreateCommand();
            pragma.CommandText = _connectionPragmas;
            await pragma.ExecuteNonQueryAsync(ct);
            Configured.AddOrUpdate(connection.Handle!, _connectionPragmas);
        }
        return connection;
    }

    // Each connection SQLite opened, with the settings made on it (two stores on one file may differ in durability).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, string> Configured = new();

    /// Runs `work` in the one writer path and returns once it is committed. Writes that arrive while
    /// another batch commits are taken together (group commit): each in its own savepoint, so one that
    /// throws is undone alone, and all of them committed by one COMMIT, which is what ingest speed needs.
    /// With PostgreSQL each write is its own READ COMMITTED transaction, run concurrently; one that meets a
    /// serialization failure or a deadlock is rolled back and run again, so `work` must touch nothing but the store.
    public async Task<T> WriteAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct = default)
    {
        if (_postgres is not null) return await WritePostgresAsync(work, ct);
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

    /// Another instance committed to the shared store (heard through LISTEN/NOTIFY): cached reads are stale.
    public void NoteCommitElsewhere() => Interlocked.Increment(ref _commits);

    private const int PostgresAttempts = 8;

    private async Task<T> WritePostgresAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _postgres!.OpenConnectionAsync(ct);
                await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
                var result = await work(connection, transaction);
                await transaction.CommitAsync(ct);
                Interlocked.Increment(ref _commits);
                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                                              && attempt < PostgresAttempts)
            {
                await Task.Delay(Random.Shared.Next(1, 10 * attempt), ct);
            }
        }
    }

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
            Interlocked.Increment(ref _commits);
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
        var connection = await OpenUnpooledAsync();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"PRAGMA cache_size=-{WriterCacheKib}; PRAGMA wal_autocheckpoint={CheckpointPages};";
            await pragma.ExecuteNonQueryAsync();
        }
        PreparedStatements.Keep(connection);
        return connection;
    }

    // 8 MiB (SQLite's default is 2): the upper levels and recent leaves of the runs table's indexes stay in the
    // writer's memory. 32 MiB measured no faster at ingest and kept 18 MB more resident.
    private const int WriterCacheKib = 8 * 1024;

    // The writer copies the write-ahead log back into the file once it holds this many pages (40 MB), not
    // SQLite's default 1,000: every insert dirties the same few leaves of each index (and the counter and
    // rollup rows), so a longer log writes each back once for many commits instead of once every few.
    private const int CheckpointPages = 10_000;

    private void CloseWriter()
    {
        if (_writer is null) return;
        PreparedStatements.Forget(_writer);
        _writer.Dispose();
        _writer = null;
    }

    /// Closes the writer's connection and the pool's idle ones (the next read or write opens new ones), for work
    /// that needs the file to itself, such as the seed's switch of journal mode. The last connection to close
    /// checkpoints the write-ahead log.
    public void CloseConnections()
    {
        if (_postgres is not null) return;
        _writeGate.Wait();
        try
        {
            CloseWriter();
            using var pooled = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(pooled);
        }
        finally { _writeGate.Release(); }
    }

    public void Dispose() => CloseConnections();

    private abstract class PendingWrite
    {
        public Exception? Failed { get; set; }
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
