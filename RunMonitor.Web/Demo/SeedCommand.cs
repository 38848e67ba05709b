using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Demo;

/// `seed --runs N`: fills the configured store with N realistic finished runs (steps, errors, usage,
/// three tenants, 30 days) in bulk, for benchmarks. Prepared statements, one transaction per batch.
public static class SeedCommand
{
    private const int BatchSize = 20_000;

    public static async Task<int> RunAsync(string[] args, Database database, PriceTable prices, TimeProvider time, TextWriter output, TextWriter error)
    {
        if (!TryParse(args, out var runs, out var problem))
        {
            await error.WriteLineAsync(problem);
            await error.WriteLineAsync("usage: seed --runs N   (N from 1 to 50,000,000)");
            return 2;
        }
        if (database.IsPostgres)
        {
            await error.WriteLineAsync("seed writes SQLite stores; for PostgreSQL, SeedPostgresCommand seeds one and copies it");
            return 2;
        }
        var watch = Stopwatch.StartNew();
        var now = time.GetUtcNow();
        var workflows = new HashSet<(string, string)>();

        // Runs are made on another thread while this one writes them.
        var batches = Channel.CreateBounded<List<DemoRun>>(4);
        var producer = Task.Run(async () =>
        {
            var random = new Random(42);
            var factory = new DemoRunFactory(random, prices, payloadVariants: 48);
            var span = TimeSpan.FromDays(30).TotalMilliseconds;
            for (var made = 0; made < runs;)
            {
                var batch = new List<DemoRun>(Math.Min(BatchSize, runs - made));
                for (var i = 0; i < batch.Capacity; i++, made++)
                {
                    // Runs arrive in time order over the 30 days, as they would have, so the unique indexes append.
                    var createdAt = now.AddMilliseconds(-span + (made + random.NextDouble()) * (span / runs));
                    batch.Add(factory.Finished(RunService.NewId(createdAt), factory.PickTenant(), factory.PickWorkflow(), createdAt, factory.PickOutcome()));
                }
                await batches.Writer.WriteAsync(batch);
            }
            batches.Writer.Complete();
            return watch.Elapsed;
        });

        await using var connection = (SqliteConnection)await database.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            // Regenerable data: durability is traded for speed while it loads (the load is one transaction).
            pragma.CommandText = "PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;";
            await pragma.ExecuteNonQueryAsync();
        }
        // One transaction: an interrupted seed rolls back whole, schema included.
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync();
        // Indexes that end in created_at only ever receive appends from a load in time order: they stay.
        // The rest (durations, names, triggers) would be written at random places: dropped, rebuilt after.
        var secondary = (await connection.QueryAsync<(string Type, string Name, string Sql)>(SelectSecondary, transaction: tx))
            .Where(x => x.Type == "trigger" || !x.Sql.TrimEnd().EndsWith("created_at)", StringComparison.Ordinal))
            .ToList();
        foreach (var (type, name, _) in secondary)
            await connection.ExecuteAsync($"DROP {(type == "index" ? "INDEX" : "TRIGGER")} \"{name.Replace("\"", "\"\"")}\"", transaction: tx);

        using var insertRun = new RowInsert(connection, tx, "runs", RunColumns);
        using var insertStep = new RowInsert(connection, tx, "steps", StepColumns);
        using var insertError = new RowInsert(connection, tx, "run_errors", ["run_id", "seq", "topic", "error", "node"]);
        var written = 0;
        await foreach (var batch in batches.Reader.ReadAllAsync())
        {
            foreach (var run in batch)
            {
                workflows.Add((run.Run.TenantId, run.Run.WorkflowName));
                insertRun.Add(RunValues(run.Run));
                foreach (var step in run.Steps) insertStep.Add(StepValues(step));
                for (var e = 0; e < run.Errors.Count; e++)
                    insertError.Add([run.Run.Id, e, run.Errors[e].Topic, run.Errors[e].Error, run.Errors[e].Node]);
            }
            written += batch.Count;
            if (written % 200_000 == 0 || written == runs)
                await output.WriteLineAsync($"wrote {written.ToString("N0", CultureInfo.InvariantCulture)} runs in {watch.Elapsed.TotalSeconds:F1}s");
        }
        var made = await producer;

        // Indexes built once over sorted data are far cheaper than a million incremental updates.
        foreach (var (type, _, sql) in secondary.Where(x => x.Type == "index")) await connection.ExecuteAsync(sql, transaction: tx);
        await connection.ExecuteAsync(RunStore.RebuildDerived, transaction: tx);
        foreach (var (type, _, sql) in secondary.Where(x => x.Type == "trigger")) await connection.ExecuteAsync(sql, transaction: tx);
        foreach (var (tenant, workflow) in workflows) await RunStore.TouchWorkflowAsync(connection, tx, tenant, workflow, DbTime.ToDb(now));
        await tx.CommitAsync();
        await output.WriteLineAsync($"indexed in {watch.Elapsed.TotalSeconds:F1}s (runs were all made by {made.TotalSeconds:F1}s)");
        await connection.ExecuteAsync("PRAGMA optimize; ANALYZE main;");
        await output.WriteLineAsync($"done: {runs.ToString("N0", CultureInfo.InvariantCulture)} runs in {watch.Elapsed.TotalSeconds:F1}s into {database.Path}");
        return 0;
    }

    // Every index and trigger the load would otherwise update row by row (the unique keys stay).
    private const string SelectSecondary = """
        SELECT type, name, sql FROM sqlite_master
        WHERE type IN ('index', 'trigger') AND tbl_name IN ('runs', 'steps', 'run_errors') AND sql IS NOT NULL
        ORDER BY type, name
        """;

    public static bool TryParse(string[] args, out int runs, out string problem)
    {
        runs = 0;
        problem = "";
        var index = Array.IndexOf(args, "--runs");
        if (index < 0 || index + 1 >= args.Length) { problem = "seed needs --runs N"; return false; }
        if (!int.TryParse(args[index + 1], NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out runs) || runs < 1 || runs > 50_000_000)
        {
            problem = $"--runs accepts a whole number from 1 to 50,000,000; got '{args[index + 1]}'";
            return false;
        }
        return true;
    }

    private static readonly string[] RunColumns =
    [
        "id", "tenant_id", "workflow_name", "name", "status", "dry_run", "trigger_payload", "context",
        "error_message", "error_type", "error_stack", "created_at", "started_at", "completed_at", "duration_ms",
        "targets_matched", "targets_processed", "targets_skipped", "insights_created", "model_profile",
        "model_provider", "model_name", "tokens_input", "tokens_output", "cost_usd", "layer_hash", "retry_of",
        "steps_total", "steps_completed", "updated_at",
    ];

    private static object?[] RunValues(RunRow r) =>
    [
        r.Id, r.TenantId, r.WorkflowName, r.Name, r.Status, r.DryRun, r.TriggerPayload, r.Context,
        r.ErrorMessage, r.ErrorType, r.ErrorStack, r.CreatedAt, r.StartedAt, r.CompletedAt, r.DurationMs,
        r.TargetsMatched, r.TargetsProcessed, r.TargetsSkipped, r.InsightsCreated, r.ModelProfile,
        r.ModelProvider, r.ModelName, r.TokensInput, r.TokensOutput, r.CostUsd, r.LayerHash, r.RetryOf,
        r.StepsTotal, r.StepsCompleted, r.UpdatedAt,
    ];

    private static readonly string[] StepColumns =
    [
        "run_id", "step_id", "seq", "skill_id", "status", "started_at", "completed_at", "duration_ms",
        "cache_hit", "attempt", "input", "output", "error_message", "error_stack", "updated_at",
    ];

    private static object?[] StepValues(StepRow s) =>
    [
        s.RunId, s.StepId, s.Seq, s.SkillId, s.Status, s.StartedAt, s.CompletedAt, s.DurationMs,
        s.CacheHit, s.Attempt, s.Input, s.Output, s.ErrorMessage, s.ErrorStack, s.UpdatedAt,
    ];

    /// One prepared single-row INSERT, rebound per row. (Multi-row statements are slower here: parameters
    /// bind by name, and SQLite finds a name by walking the statement's list.)
    private sealed class RowInsert : IDisposable
    {
        private readonly SqliteCommand _command;

        public RowInsert(SqliteConnection connection, SqliteTransaction tx, string table, string[] columns)
        {
            _command = connection.CreateCommand();
            _command.Transaction = tx;
            _command.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(c => "$" + c))})";
            foreach (var column in columns) _command.Parameters.Add(new SqliteParameter("$" + column, null));
            _command.Prepare();
        }

        public void Add(object?[] values)
        {
            for (var c = 0; c < values.Length; c++) _command.Parameters[c].Value = values[c] ?? DBNull.Value;
            _command.ExecuteNonQuery();
        }

        public void Dispose() => _command.Dispose();
    }
}
