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
/// concurrent, retried when PostgreSQL reports a serialization failure or a deadlock). The engine is read from the
/// setting here, once: its dialect (`Dialect`) spells the SQL and chooses the write path.
public sealed class Database : IDisposable
{
    private readonly string _connectionString;
    private readonly NpgsqlDataSource? _postgres;
    private readonly NpgsqlDataSource? _groupWriters;
    private readonly IWritePath _writes;

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
        Dialect = provider == StoreProvider.Postgres ? PostgresDialect.Instance : SqliteDialect.Instance;
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
            // Npgsql resets a pooled connection's session each time it is handed out again: five statements PostgreSQL
            // runs before every write's own (measured in docs/PERFORMANCE.md, "PostgreSQL creates"). The store
            // leaves no session state behind (settings are SET LOCAL, advisory locks are the transaction's or released),
            // so the reset is skipped unless the connection string asks for it.
            if (!new DbConnectionStringBuilder { ConnectionString = setting }.Keys.Cast<string>()
                    .Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("NoResetOnClose", StringComparison.OrdinalIgnoreCase)))
                builder.NoResetOnClose = true;
            _connectionString = builder.ConnectionString;
            _postgres = NpgsqlDataSource.Create(_connectionString);
            // The create groups' own pool, as many connections as groups are written at once. From the store's pool a
            // group took whichever idle connection came first: once a burst of reads had opened twenty, the groups went
            // round twenty server backends, each preparing the statement and warming its caches for every twentieth
            // group (docs/PERFORMANCE.md, "PostgreSQL creates").
            _groupWriters = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_connectionString)
            {
                MaxPoolSize = Math.Min(builder.MaxPoolSize, Runs.CreateGroups.Writers),
                MinPoolSize = 0,
            }.ConnectionString);
            Path = "";
            Description = $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
            _writes = Dialect.WritePath(this);
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
        _writes = Dialect.WritePath(this);
    }

    public StoreProvider Provider { get; }

    /// The engine's SQL spelling, chosen here with the engine: stores take it from the container (`AddSqlDialect`).
    public ISqlDialect Dialect { get; }

    /// How far a SQLite commit is synced before its write is answered (PostgreSQL follows its server's synchronous_commit).
    public Durability Durability { get; }

    private readonly string _connectionPragmas;

    /// For composition only (which implementations to register); stores ask the dialect instead.
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

    /// Runs `work` in the store's write path (the dialect's: SQLite's one writer with group commit, or PostgreSQL's
    /// concurrent transactions retried on conflicts) and returns once it is committed. `work` may run more than once
    /// on PostgreSQL, so it must touch nothing but the store.
    public Task<T> WriteAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct = default) =>
        _writes.WriteAsync(work, ct);

    /// As `WriteAsync`, for work that writes one run's rows (an update, a step, its log lines, a claim, a cancel, a
    /// retry), or what an ingest request about a few runs holds (`BatchIngest.FewRuns`): pages bounded by those runs,
    /// whose savepoint journal SQLite's writer keeps in memory when every write of its batch is one of these
    /// (`GroupCommitWrites`).
    public Task<T> WriteRunAsync<T>(Func<DbConnection, IDbTransaction, Task<T>> work, CancellationToken ct = default) =>
        _writes.WriteRunAsync(work, ct);

    /// As `WriteAsync`, for work that writes in one statement where the dialect can (`ISqlDialect.CreateRun`):
    /// PostgreSQL runs it without a transaction around it (the statement commits by itself: one round trip, where BEGIN,
    /// the statement and COMMIT took two), so `work` gets a null transaction there; SQLite runs it in its group commit.
    public Task<T> WriteStatementAsync<T>(Func<DbConnection, IDbTransaction?, Task<T>> work, CancellationToken ct = default) =>
        _writes.WriteStatementAsync(work, ct);

    /// As `WriteStatementAsync`, for a create group (`CreateGroups`, PostgreSQL only): on a connection of the groups' own
    /// pool, so each group is written on one of the same few server backends.
    public Task<T> WriteGroupStatementAsync<T>(Func<DbConnection, Task<T>> work) =>
        _groupWriters is not null && _writes is RetriedWrites retried
            ? retried.WriteStatementAsync(_groupWriters, work, CancellationToken.None)
            : throw new InvalidOperationException("create groups are written on PostgreSQL only");

    private long _commits;

    /// Moves on with every commit of the writer path: a cached read is current while it has not moved.
    public long Commits => Interlocked.Read(ref _commits);

    /// Another instance committed to the shared store (heard through LISTEN/NOTIFY): cached reads are stale.
    public void NoteCommitElsewhere() => Interlocked.Increment(ref _commits);

    /// The write path counts its commits here.
    internal void NoteCommit() => Interlocked.Increment(ref _commits);

    /// Closes the writer's connection and the pool's idle ones (the next read or write opens new ones), for work
    /// that needs the file to itself, such as the seed's switch of journal mode. The last connection to close
    /// checkpoints the write-ahead log.
    public void CloseConnections() => _writes.CloseConnections();

    public void Dispose()
    {
        CloseConnections();
        _groupWriters?.Dispose();
    }
}
