using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Data;

/// `dotnet run --project RunMonitor.Web -- copy-store --from <sqlite file> --to <connection string>`: moves a SQLite
/// store, artifact bytes included, into an empty PostgreSQL database in one transaction (an interrupted copy leaves
/// it empty), with binary COPY streamed from SQLite row by row, so a store of millions of runs never sits in memory.
public static class CopyStoreCommand
{
    public const string Usage = """
        usage: copy-store --from <sqlite file> --to <PostgreSQL connection string>
          Copies a RunMonitor SQLite store (runs, steps, errors, logs, workflows, artifacts and their bytes, webhook
          deliveries, API keys, retention history, saved views, activity, bulk operations, workers, alert states and
          events) into an empty PostgreSQL database, in one transaction.
          Both stores are migrated first; a target that already holds data is refused, never merged into.
          e.g. copy-store --from App_Data/runmonitor.db --to "Host=db;Database=runmonitor;Username=runmonitor;Password=..."
        """;

    /// Copied in this order (what references a run after the runs). Every other table of the source must be
    /// one of `Derived` or SQLite's own, or the copy stops: a table added later is never silently left behind.
    public static readonly string[] Tables =
        ["runs", "steps", "run_errors", "artifacts", "workflows", "webhook_deliveries", "api_keys", "retention_purges", "saved_views",
         "run_activity", "bulk_operations", "bulk_items", "run_logs", "run_log_counts", "workers", "worker_hours", "alert_states", "alert_events"];

    /// Not copied: recomputed from the runs on the target (PostgresDialect.RebuildDerivedSql), or each store's own migrations.
    private static readonly string[] Derived = ["run_counts", "run_rollups", "run_daily", "schema_version"];

    private const int ProgressEvery = 250_000;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error,
        ILoggerFactory? loggerFactory = null, CancellationToken ct = default)
    {
        var (from, to, problem) = Parse(args);
        problem ??= CheckSource(from!) ?? CheckTarget(to!);
        if (problem is not null)
        {
            await error.WriteLineAsync($"copy-store: {problem}\n{Usage}");
            return 2;
        }

        var watch = Stopwatch.StartNew();
        var source = new Database(from!);
        var target = Database.FromSetting(to!, Directory.GetCurrentDirectory());
        var logger = loggerFactory?.CreateLogger<MigrationRunner>() ?? (ILogger<MigrationRunner>)NullLogger<MigrationRunner>.Instance;
        await output.WriteLineAsync($"Copying {source.Description} to {target.Description}");
        try
        {
            await new MigrationRunner(source, logger).ApplyAsync(ct);
            await new MigrationRunner(target, logger).ApplyAsync(ct);
            var copied = await CopyAsync(source, target, output, error, watch, ct);
            if (copied is null) return 1;
            await output.WriteLineAsync(
                $"Copied {copied.Runs:N0} runs ({copied.Rows:N0} rows, {copied.Blobs:N0} artifact blobs of {copied.BlobBytes:N0} bytes) " +
                $"to {target.Description} in {watch.Elapsed.TotalSeconds:0.0} s. Set RunMonitor:Database to its connection string to run on it.");
            return 0;
        }
        catch (Exception e) when (e is CopyFailure or NpgsqlException or SqliteException or IOException)
        {
            await error.WriteLineAsync($"copy-store: {e.Message}\nNothing was copied to {target.Description}.");
            return 1;
        }
    }

    private static (string? From, string? To, string? Problem) Parse(string[] args)
    {
        string? from = null, to = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--from" when i + 1 < args.Length && from is null: from = args[++i]; break;
                case "--to" when i + 1 < args.Length && to is null: to = args[++i]; break;
                case "--from" or "--to" when i + 1 < args.Length: return (null, null, $"{args[i]} is given twice");
                case "--from" or "--to": return (null, null, $"{args[i]} needs a value");
                default: return (null, null, $"unexpected '{args[i]}'");
            }
        }
        if (from is null) return (null, null, "--from is required: the SQLite file of the store to copy");
        if (to is null) return (null, null, "--to is required: the PostgreSQL connection string (Host=...;Database=...) of an empty database");
        return (from, to, null);
    }

    private const string SelectTables = "SELECT name FROM sqlite_master WHERE type = 'table'";

    /// A RunMonitor SQLite store: a file SQLite opens, with the runs and schema_version tables. Read-only here,
    /// so a wrong path is never turned into a new database.
    private static string? CheckSource(string path)
    {
        if (Directory.Exists(path)) return $"--from '{path}' is a directory, not the SQLite file of a store";
        if (!File.Exists(path)) return $"--from '{path}' does not exist (the SQLite file of the store to copy)";
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
            }.ToString());
            connection.Open();
            var tables = connection.Query<string>(SelectTables).ToHashSet(StringComparer.Ordinal);
            return tables.Contains("runs") && tables.Contains("schema_version")
                ? null
                : $"--from '{path}' is a SQLite file but not a RunMonitor store (it has no runs and schema_version tables)";
        }
        catch (SqliteException e)
        {
            return $"--from '{path}' is not a SQLite database ({e.Message})";
        }
    }

    private static string? CheckTarget(string setting)
    {
        if (!Database.IsPostgresConnectionString(setting))
            return "--to is not a PostgreSQL connection string: it needs Host=... and Database=... (copy-store copies into PostgreSQL only)";
        try
        {
            _ = new NpgsqlConnectionStringBuilder(setting);
            return null;
        }
        catch (ArgumentException e)
        {
            return $"--to is not a valid PostgreSQL connection string: {e.Message}";
        }
    }

    private sealed record Copied(long Runs, long Rows, long Blobs, long BlobBytes);

    private sealed class CopyFailure(string message) : Exception(message);

    /// One column as loaded: the source expression that reads it and the PostgreSQL type it is written as.
    private sealed record Column(string Name, string SourceExpression, NpgsqlDbType Type, bool IsIdentity);

    private sealed record TablePlan(string Table, IReadOnlyList<Column> Columns);

    private const string SelectTargetColumns = """
        SELECT column_name AS Name, data_type AS DataType, is_identity = 'YES' AS IsIdentity,
               (column_default IS NOT NULL OR is_nullable = 'YES') AS HasDefault
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = @Table
        ORDER BY ordinal_position
        """;

    private const string SelectSourceColumns = "SELECT name FROM pragma_table_info(@Table)";

    private const string SelectSourceTableSql = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = @Table";

    private sealed record TargetColumn(string Name, string DataType, bool IsIdentity, bool HasDefault);

    /// The target's columns in its order, each read from the source column of the same name (SQLite's implicit
    /// rowid for a target `rowid`). A source column the target lacks stops the copy: dropping it would lose data.
    private static async Task<TablePlan> PlanAsync(SqliteConnection sqlite, SqliteTransaction snapshot, NpgsqlConnection pg,
        NpgsqlTransaction tx, string table)
    {
        var targetColumns = (await pg.QueryAsync<TargetColumn>(SelectTargetColumns, new { Table = table }, tx)).ToList();
        if (targetColumns.Count == 0) throw new CopyFailure($"the target has no table {table}");
        var sourceColumns = (await sqlite.QueryAsync<string>(SelectSourceColumns, new { Table = table }, snapshot)).ToList();
        var missing = sourceColumns.Where(s => targetColumns.All(t => t.Name != s)).ToList();
        if (missing.Count > 0)
            throw new CopyFailure($"the source column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"{table}.{m}"))} " +
                                  "has no column in the target; copying would drop it (is the target's RunMonitor older than the source's?)");
        var sourceSql = await sqlite.ExecuteScalarAsync<string>(SelectSourceTableSql, new { Table = table }, snapshot) ?? "";
        var hasRowid = !sourceSql.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase);

        var columns = new List<Column>();
        foreach (var column in targetColumns)
        {
            if (!sourceColumns.Contains(column.Name) && column.Name != "rowid")
            {
                // The target fills it: its default (runs.shard), or NULL.
                if (!column.HasDefault) throw new CopyFailure($"the target column {table}.{column.Name} has no source column and no default");
                continue;
            }
            var type = column.DataType switch
            {
                "bigint" => NpgsqlDbType.Bigint,
                "text" => NpgsqlDbType.Text,
                "double precision" => NpgsqlDbType.Double,
                "bytea" => NpgsqlDbType.Bytea,
                _ => throw new CopyFailure($"the target column {table}.{column.Name} is {column.DataType}, a type copy-store does not write"),
            };
            if (sourceColumns.Contains(column.Name))
                columns.Add(new Column(column.Name, Quote(column.Name), type, column.IsIdentity));
            else if (column.Name == "rowid" && hasRowid && type == NpgsqlDbType.Bigint)
                columns.Add(new Column(column.Name, "rowid", type, column.IsIdentity));
            else if (!column.HasDefault)
                throw new CopyFailure($"the target column {table}.{column.Name} has no source column and no default");
        }
        return new TablePlan(table, columns);
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    private static async Task<Copied?> CopyAsync(Database source, Database target, TextWriter output, TextWriter error,
        Stopwatch watch, CancellationToken ct)
    {
        await using var sqlite = (SqliteConnection)await source.OpenAsync(ct);
        // One read transaction: every table is read from the same snapshot, even if the app still writes the file.
        await using var snapshot = sqlite.BeginTransaction(deferred: true);

        // The copy runs as long as it needs (no command timeout); a row the target refuses is named in full, for its owner.
        await using var pg = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(target.ConnectionString)
        {
            CommandTimeout = 0, IncludeErrorDetail = true,
        }.ConnectionString);
        await pg.OpenAsync(ct);
        await using var tx = await pg.BeginTransactionAsync(ct);

        // Held to the commit: instances writing this database, or a second copy, wait instead of interleaving.
        await pg.ExecuteAsync($"LOCK TABLE {string.Join(", ", Tables)}, artifact_blobs IN SHARE ROW EXCLUSIVE MODE", transaction: tx);
        var occupied = new List<string>();
        foreach (var table in Tables.Append("artifact_blobs"))
            if (await pg.ExecuteScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM {table})", transaction: tx)) occupied.Add(table);
        if (occupied.Count > 0)
        {
            await error.WriteLineAsync($"copy-store: {target.Description} already holds data (in {string.Join(", ", occupied)}); " +
                                       "copy-store fills an empty store only, it never merges into or overwrites one. Nothing was changed.");
            return null;
        }

        var unknown = (await sqlite.QueryAsync<string>(SelectTables, transaction: snapshot))
            .Where(t => !Tables.Contains(t) && !Derived.Contains(t)
                        && !t.StartsWith("sqlite_", StringComparison.Ordinal) && !t.StartsWith("runs_name_fts", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (unknown.Count > 0)
            throw new CopyFailure($"the source has table{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)} that copy-store does not know; " +
                                  "it would be left behind (add it to CopyStoreCommand.Tables)");

        var plans = new List<TablePlan>();
        foreach (var table in Tables) plans.Add(await PlanAsync(sqlite, snapshot, pg, tx, table));

        // The derived tables are rebuilt once at the end instead of being touched once per run; the secondary
        // indexes are built, and the foreign keys checked, once over the loaded rows instead of row by row.
        await pg.ExecuteAsync("ALTER TABLE runs DISABLE TRIGGER USER", transaction: tx);
        var indexes = (await pg.QueryAsync<(string Name, string Definition)>(SelectSecondaryIndexes, new { Tables }, tx)).ToList();
        foreach (var (name, _) in indexes) await pg.ExecuteAsync($"DROP INDEX {Quote(name)}", transaction: tx);
        var foreignKeys = (await pg.QueryAsync<(string Table, string Name, string Definition)>(SelectForeignKeys, new { Tables }, tx)).ToList();
        foreach (var (table, name, _) in foreignKeys) await pg.ExecuteAsync($"ALTER TABLE {Quote(table)} DROP CONSTRAINT {Quote(name)}", transaction: tx);
        long rows = 0, runs = 0;
        foreach (var plan in plans)
        {
            var started = watch.Elapsed;
            var count = await CopyTableAsync(sqlite, snapshot, pg, plan, output, ct);
            if (plan.Table == "runs") runs = count;
            rows += count;
            await output.WriteLineAsync($"  {plan.Table}: {count:N0} rows in {(watch.Elapsed - started).TotalSeconds:0.0} s");
        }
        var blobsStarted = watch.Elapsed;
        var (blobs, bytes, skipped) = await CopyBlobsAsync(source, sqlite, snapshot, pg, error, ct);
        await output.WriteLineAsync($"  artifact_blobs: {blobs:N0} blobs, {bytes:N0} bytes in {(watch.Elapsed - blobsStarted).TotalSeconds:0.0} s" +
                                    (skipped > 0 ? $" ({skipped:N0} missing or damaged, skipped: their downloads answer 404)" : ""));
        await pg.ExecuteAsync("ALTER TABLE runs ENABLE TRIGGER USER", transaction: tx);

        var indexStarted = watch.Elapsed;
        await pg.ExecuteAsync("SET LOCAL maintenance_work_mem = '256MB'", transaction: tx);
        foreach (var (_, definition) in indexes) await pg.ExecuteAsync(definition, transaction: tx);
        foreach (var (table, name, definition) in foreignKeys)
            await pg.ExecuteAsync($"ALTER TABLE {Quote(table)} ADD CONSTRAINT {Quote(name)} {definition}", transaction: tx);
        await output.WriteLineAsync($"  {indexes.Count} indexes built, {foreignKeys.Count} foreign keys checked in {(watch.Elapsed - indexStarted).TotalSeconds:0.0} s");

        var derivedStarted = watch.Elapsed;
        await pg.ExecuteAsync(PostgresDialect.RebuildDerivedSql, transaction: tx);
        await output.WriteLineAsync($"  run_counts, run_rollups, run_daily rebuilt in {(watch.Elapsed - derivedStarted).TotalSeconds:0.0} s");

        // Keys the store assigns itself continue after the largest copied one.
        foreach (var plan in plans)
        foreach (var column in plan.Columns.Where(c => c.IsIdentity))
            await pg.ExecuteAsync($"SELECT setval(pg_get_serial_sequence(@Table, @Column), COALESCE(MAX({Quote(column.Name)}), 0) + 1, false) FROM {Quote(plan.Table)}",
                new { plan.Table, Column = column.Name }, tx);

        await tx.CommitAsync(ct);
        // The copy is in. Statistics for the planner, and a first VACUUM: the copied rows' visibility (index-only scans
        // read the heap until it is recorded) and their hint bits. Autovacuum would do both later, throttled, in the
        // store's first minutes of use, beside its first reads and writes (docs/PERFORMANCE.md, "PostgreSQL creates").
        var analyzeStarted = watch.Elapsed;
        try
        {
            await pg.ExecuteAsync($"VACUUM (ANALYZE) {string.Join(", ", Tables)}, artifact_blobs, run_counts, run_rollups, run_daily", commandTimeout: 0);
            await output.WriteLineAsync($"  committed; vacuumed and analyzed in {(watch.Elapsed - analyzeStarted).TotalSeconds:0.0} s");
        }
        catch (NpgsqlException e)
        {
            await error.WriteLineAsync($"warning: the copy is committed, but VACUUM (ANALYZE) failed ({e.Message}): run it on the database");
        }
        return new Copied(runs, rows, blobs, bytes);
    }

    /// Indexes that back no constraint (keys and unique constraints stay: foreign keys are checked against them).
    private const string SelectSecondaryIndexes = """
        SELECT i.relname AS Name, pg_get_indexdef(i.oid) AS Definition
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(@Tables) AND t.relnamespace = current_schema()::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        ORDER BY t.relname, i.relname
        """;

    private const string SelectForeignKeys = """
        SELECT t.relname AS Table, c.conname AS Name, pg_get_constraintdef(c.oid) AS Definition
        FROM pg_constraint c
        JOIN pg_class t ON t.oid = c.conrelid
        WHERE c.contype = 'f' AND t.relname = ANY(@Tables) AND t.relnamespace = current_schema()::regnamespace
        ORDER BY t.relname, c.conname
        """;

    /// Streams one table from SQLite into binary COPY: one row in memory at a time.
    private static async Task<long> CopyTableAsync(SqliteConnection sqlite, SqliteTransaction snapshot, NpgsqlConnection pg,
        TablePlan plan, TextWriter output, CancellationToken ct)
    {
        var columns = plan.Columns;
        await using var select = sqlite.CreateCommand();
        select.Transaction = snapshot;
        select.CommandText = $"SELECT {string.Join(", ", columns.Select(c => c.SourceExpression))} FROM {Quote(plan.Table)}";
        await using var reader = await select.ExecuteReaderAsync(ct);
        await using var writer = await pg.BeginBinaryImportAsync(
            $"COPY {Quote(plan.Table)} ({string.Join(", ", columns.Select(c => Quote(c.Name)))}) FROM STDIN (FORMAT BINARY)", ct);
        long count = 0;
        while (reader.Read())
        {
            ct.ThrowIfCancellationRequested();
            count++;
            writer.StartRow();
            for (var i = 0; i < columns.Count; i++) WriteValue(writer, reader, i, plan.Table, columns[i], count);
            if (count % ProgressEvery == 0) await output.WriteLineAsync($"  {plan.Table}: {count:N0} rows…");
        }
        await writer.CompleteAsync(ct);
        return count;
    }

    /// Writes the value as the target column's type. SQLite lets any column hold any type: a value that cannot
    /// be stored as the target's type exactly stops the copy, naming it, rather than being changed on the way.
    private static void WriteValue(NpgsqlBinaryImporter writer, SqliteDataReader reader, int i, string table, Column column, long row)
    {
        if (reader.IsDBNull(i))
        {
            writer.WriteNull();
            return;
        }
        var stored = reader.GetFieldType(i);
        switch (column.Type)
        {
            case NpgsqlDbType.Bigint when stored == typeof(long):
                writer.Write(reader.GetInt64(i), NpgsqlDbType.Bigint);
                return;
            case NpgsqlDbType.Bigint when stored == typeof(double) && reader.GetDouble(i) is var d && d == Math.Floor(d) && d is >= -9.2e18 and <= 9.2e18:
                writer.Write((long)d, NpgsqlDbType.Bigint);
                return;
            case NpgsqlDbType.Double when stored == typeof(double) || stored == typeof(long):
                writer.Write(reader.GetDouble(i), NpgsqlDbType.Double);
                return;
            case NpgsqlDbType.Text when stored == typeof(string):
                writer.Write(reader.GetString(i), NpgsqlDbType.Text);
                return;
            case NpgsqlDbType.Text when stored == typeof(long):
                writer.Write(reader.GetInt64(i).ToString(CultureInfo.InvariantCulture), NpgsqlDbType.Text);
                return;
            case NpgsqlDbType.Bytea when stored == typeof(byte[]):
                writer.Write((byte[])reader.GetValue(i), NpgsqlDbType.Bytea);
                return;
            default:
                throw new CopyFailure($"{table}.{column.Name} in row {row:N0} holds a {stored.Name} value ({Shorten(reader.GetValue(i))}) " +
                                      $"that a {column.Type} column cannot store as it is");
        }
    }

    private static string Shorten(object value)
    {
        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        return text.Length <= 40 ? text : text[..40] + "…";
    }

    private const string SelectHashes = "SELECT DISTINCT sha256 FROM artifacts ORDER BY sha256";

    /// The bytes of every artifact from the source's folder (`ArtifactFolder`: `<db dir>/artifacts/ab/cdef…`) into artifact_blobs, checked against their
    /// hash. A missing or damaged file is reported and skipped: its rows stay and answer 404, as with SQLite.
    private static async Task<(long Blobs, long Bytes, long Skipped)> CopyBlobsAsync(Database source, SqliteConnection sqlite,
        SqliteTransaction snapshot, NpgsqlConnection pg, TextWriter error, CancellationToken ct)
    {
        var files = new FileArtifactBytes(source);
        await using var select = sqlite.CreateCommand();
        select.Transaction = snapshot;
        select.CommandText = SelectHashes;
        await using var reader = await select.ExecuteReaderAsync(ct);
        await using var writer = await pg.BeginBinaryImportAsync("COPY artifact_blobs (sha256, content) FROM STDIN (FORMAT BINARY)", ct);
        long blobs = 0, bytes = 0, skipped = 0;
        while (await reader.ReadAsync(ct))
        {
            var sha = reader.GetString(0);
            var path = sha.Length == 64 && sha.All(char.IsAsciiHexDigitLower) ? files.PathFor(sha) : null;
            byte[] content;
            try
            {
                content = path is null ? [] : await File.ReadAllBytesAsync(path, ct);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                await error.WriteLineAsync($"warning: the bytes of artifact {sha} are missing ({path}): its artifact rows are copied, their downloads answer 404");
                skipped++;
                continue;
            }
            if (path is null || Convert.ToHexStringLower(SHA256.HashData(content)) != sha)
            {
                await error.WriteLineAsync($"warning: the file of artifact {sha} ({path ?? "no valid path"}) does not hash to its sha256: skipped, its downloads answer 404");
                skipped++;
                continue;
            }
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(sha, NpgsqlDbType.Text, ct);
            await writer.WriteAsync(content, NpgsqlDbType.Bytea, ct);
            blobs++;
            bytes += content.Length;
        }
        await writer.CompleteAsync(ct);
        return (blobs, bytes, skipped);
    }
}
