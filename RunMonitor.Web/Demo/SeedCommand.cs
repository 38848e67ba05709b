using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Dapper;
using Microsoft.Data.Sqlite;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using SQLitePCL;

namespace RunMonitor.Web.Demo;

/// `seed --runs N`: fills a SQLite store (PostgreSQL: `SeedPostgresCommand`) with N realistic finished runs (steps, errors, usage,
/// three tenants, 30 days) in bulk, for benchmarks: runs made and encoded on another thread, written through prepared
/// positional statements in one transaction, secondary indexes built after, derived tables summed on the way.
/// It prints how long each phase took.
public static class SeedCommand
{
    // 20,000 runs' rows of a table lie together in the file (10 MB of runs, then their steps): the index builds
    // and the statistics read the runs table alone. Batches of 100 left it in 50 KB pieces, and at 10,000,000
    // runs those steps read 6.8 GB back from the disk and took 100 s longer.
    private const int BatchSize = 20_000;

    // Batches going round between the two threads: one being filled, one being written, two ready.
    private const int BatchesInFlight = 4;

    // The load's page cache, 256 MiB (a negative cache_size is in KiB).
    private const int LoadCacheSize = -262_144;

    public static async Task<int> RunAsync(string[] args, Database database, PriceTable prices, TimeProvider time, TextWriter output, TextWriter error)
    {
        if (!TryParse(args, out var runs, out var problem))
        {
            await error.WriteLineAsync(problem);
            await error.WriteLineAsync("usage: seed --runs N   (N from 1 to 50,000,000)");
            return 2;
        }
        var watch = Stopwatch.StartNew();
        var now = time.GetUtcNow();
        var workflows = new HashSet<(string, string)>();

        // Runs are made and encoded on another thread while this one writes them: a few batches go round,
        // filled by the generator, written here, handed back (their buffers keep their size).
        var full = Channel.CreateBounded<SeedBatch>(BatchesInFlight);
        var empty = Channel.CreateUnbounded<SeedBatch>();
        for (var i = 0; i < BatchesInFlight; i++) empty.Writer.TryWrite(new SeedBatch());
        var totals = new SeedTotals();
        var producer = Task.Run(async () =>
        {
            var busy = Stopwatch.StartNew();
            var random = new Random(42);
            var factory = new DemoRunFactory(random, prices, payloadVariants: 48);
            var span = TimeSpan.FromDays(30).TotalMilliseconds;
            for (var made = 0; made < runs;)
            {
                busy.Stop();
                var batch = await empty.Reader.ReadAsync();
                busy.Start();
                batch.Clear();
                for (var end = Math.Min(made + BatchSize, runs); made < end; made++)
                {
                    // Runs arrive in time order over the 30 days, as they would have, so the unique indexes append.
                    var createdAt = now.AddMilliseconds(-span + (made + random.NextDouble()) * (span / runs));
                    var run = factory.Finished(RunService.NewId(createdAt), factory.PickTenant(), factory.PickWorkflow(), createdAt, factory.PickOutcome());
                    totals.Add(run.Run);
                    workflows.Add((run.Run.TenantId, run.Run.WorkflowName));
                    batch.Add(run);
                }
                busy.Stop();
                await full.Writer.WriteAsync(batch);
                busy.Start();
            }
            full.Writer.Complete();
            return busy.Elapsed;
        });

        // The writer's connection and idle pooled ones (migrations') keep the store in WAL mode; this one loads
        // alone, on a connection of its own outside the pool: the bulk-load pragmas below end with it.
        database.CloseConnections();
        await using var connection = await database.OpenUnpooledAsync();
        await using (var pragma = connection.CreateCommand())
        {
            // Regenerable data: durability is traded for speed while it loads (the load is one transaction).
            pragma.CommandText = $"PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF; PRAGMA cache_size={LoadCacheSize}; PRAGMA temp_store=MEMORY; PRAGMA threads=2;";
            await pragma.ExecuteNonQueryAsync();
            // A rollback journal instead of WAL while it loads: pages beyond the file's old end are not
            // journalled (an empty store writes its data once, not to the WAL and then again to the file),
            // and an interrupted load still rolls back whole. WAL comes back after the commit.
            pragma.CommandText = "PRAGMA journal_mode=DELETE";
            await output.WriteLineAsync($"  journal_mode during the load: {await pragma.ExecuteScalarAsync()}");
        }
        // One transaction: an interrupted seed rolls back whole, schema included.
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync();
        // Every secondary index of runs is dropped and built after: even the ones that only append (those
        // ending in created_at) cost more kept than built once from the loaded table (measured). Triggers too.
        var secondary = (await connection.QueryAsync<(string Type, string Name, string Sql)>(SelectSecondary, transaction: tx))
            .Where(x => x.Type == "trigger" || !AppendsInLoadOrder(x.Sql))
            .ToList();
        foreach (var (type, name, _) in secondary)
            await connection.ExecuteAsync($"DROP {(type == "index" ? "INDEX" : "TRIGGER")} \"{name.Replace("\"", "\"\"")}\"", transaction: tx);

        using var insertRun = new RowInsert(connection, "runs", RunColumns);
        using var insertStep = new RowInsert(connection, "steps", StepColumns);
        using var insertError = new RowInsert(connection, "run_errors", ErrorColumns);
        var written = 0;
        var inserting = new Stopwatch();
        await foreach (var batch in full.Reader.ReadAllAsync())
        {
            inserting.Start();
            // A batch's runs, then its steps: each table's pages lie together, so the index builds read less.
            insertRun.InsertAll(batch.Runs);
            insertStep.InsertAll(batch.Steps);
            insertError.InsertAll(batch.Errors);
            written += batch.Runs.Rows;
            inserting.Stop();
            empty.Writer.TryWrite(batch);
            if (written % 200_000 == 0 || written == runs)
                await output.WriteLineAsync($"wrote {written.ToString("N0", CultureInfo.InvariantCulture)} runs in {watch.Elapsed.TotalSeconds:F1}s");
        }
        var made = await producer;
        var loaded = watch.Elapsed;
        await output.WriteLineAsync($"  load {loaded.TotalSeconds:F1}s: generating {made.TotalSeconds:F1}s (producer busy), inserting {inserting.Elapsed.TotalSeconds:F1}s (writer busy), collector pauses {GC.GetTotalPauseDuration().TotalSeconds:F1}s");

        // Indexes built once over sorted data are far cheaper than a million incremental updates.
        // SQLite's sorter keeps the whole sort in memory when temporary files are (temp_store=MEMORY), one
        // allocation a key, on this thread alone. With temporary files and a small cache it sorts runs of
        // 4 MiB (its limit follows cache_size) on its helper threads while this one scans, and merges them:
        // the 16 builds took 12 s instead of 24 s at 1,000,000 runs, 130 s instead of 280 s at 10,000,000.
        await connection.ExecuteAsync("PRAGMA temp_store=FILE; PRAGMA cache_size=-4096;", transaction: tx);
        foreach (var (type, name, sql) in secondary.Where(x => x.Type == "index"))
            await PhaseAsync(output, "index " + name, () => connection.ExecuteAsync(sql, transaction: tx));
        await connection.ExecuteAsync($"PRAGMA cache_size={LoadCacheSize};", transaction: tx);
        // The counters, rollups and daily usage were summed as the runs were made; names are indexed in one pass.
        await PhaseAsync(output, "derived counts, rollups, daily", () => { totals.Write(connection); return Task.CompletedTask; });
        await PhaseAsync(output, "derived name search", () => connection.ExecuteAsync(NameIndexer.RebuildAll, transaction: tx));
        foreach (var (type, _, sql) in secondary.Where(x => x.Type == "trigger")) await connection.ExecuteAsync(sql, transaction: tx);
        foreach (var (tenant, workflow) in workflows) await RunWrites.TouchWorkflowAsync(connection, tx, tenant, workflow, DbTime.ToDb(now));
        await PhaseAsync(output, "commit", () => tx.CommitAsync());
        await output.WriteLineAsync($"indexed in {watch.Elapsed.TotalSeconds:F1}s (runs were all made by {made.TotalSeconds:F1}s)");
        await connection.ExecuteAsync("PRAGMA journal_mode=WAL");
        await PhaseAsync(output, "analyze", () => connection.ExecuteAsync(AnalyzeForPlanner));
        await output.WriteLineAsync($"done: {runs.ToString("N0", CultureInfo.InvariantCulture)} runs in {watch.Elapsed.TotalSeconds:F1}s into {database.Path}");
        return 0;
    }

    // Statistics for the tables whose queries have a choice of index: the runs (every list, count and stats
    // query) and the small derived tables. Steps and run errors are only ever read by their run's id through
    // their primary key, and the name index's shadow tables by FTS5 itself; reading their millions of rows for
    // statistics took a third of this phase, and a lookup by the leading column of an index needs none.
    internal const string AnalyzeForPlanner = "ANALYZE runs; ANALYZE run_counts; ANALYZE run_rollups; ANALYZE run_daily; ANALYZE workflows;";

    private static async Task PhaseAsync(TextWriter output, string phase, Func<Task> work)
    {
        var watch = Stopwatch.StartNew();
        await work();
        await output.WriteLineAsync($"  {phase}: {watch.Elapsed.TotalSeconds:F2}s");
    }

    // Runs come in time order with time-ordered ids, and each run's steps in order: within each tenant this index only appends.
    private static bool AppendsInLoadOrder(string indexSql) =>
        indexSql.TrimEnd().EndsWith("steps (tenant_id, run_id, seq)", StringComparison.Ordinal);

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

    private static void EncodeRun(RowBuffer insert, RunRow r)
    {
        insert.Text(1, r.Id); insert.Text(2, r.TenantId); insert.Text(3, r.WorkflowName); insert.Text(4, r.Name);
        insert.Text(5, r.Status); insert.Int(6, r.DryRun); insert.Text(7, r.TriggerPayload); insert.Text(8, r.Context);
        insert.Text(9, r.ErrorMessage); insert.Text(10, r.ErrorType); insert.Text(11, r.ErrorStack); insert.Text(12, r.CreatedAt);
        insert.Text(13, r.StartedAt); insert.Text(14, r.CompletedAt); insert.Int(15, r.DurationMs);
        insert.Int(16, r.TargetsMatched); insert.Int(17, r.TargetsProcessed); insert.Int(18, r.TargetsSkipped);
        insert.Int(19, r.InsightsCreated); insert.Text(20, r.ModelProfile); insert.Text(21, r.ModelProvider);
        insert.Text(22, r.ModelName); insert.Int(23, r.TokensInput); insert.Int(24, r.TokensOutput); insert.Real(25, r.CostUsd);
        insert.Text(26, r.LayerHash); insert.Text(27, r.RetryOf); insert.Int(28, r.StepsTotal); insert.Int(29, r.StepsCompleted);
        insert.Text(30, r.UpdatedAt);
        insert.EndRow();
    }

    private static readonly string[] StepColumns =
    [
        "run_id", "step_id", "seq", "skill_id", "status", "started_at", "completed_at", "duration_ms",
        "cache_hit", "attempt", "input", "output", "error_message", "error_stack", "updated_at", "tenant_id",
    ];

    private static void EncodeStep(RowBuffer insert, StepRow s)
    {
        insert.Text(1, s.RunId); insert.Text(2, s.StepId); insert.Int(3, s.Seq); insert.Text(4, s.SkillId); insert.Text(5, s.Status);
        insert.Text(6, s.StartedAt); insert.Text(7, s.CompletedAt); insert.Int(8, s.DurationMs); insert.Int(9, s.CacheHit);
        insert.Int(10, s.Attempt); insert.Text(11, s.Input); insert.Text(12, s.Output); insert.Text(13, s.ErrorMessage);
        insert.Text(14, s.ErrorStack); insert.Text(15, s.UpdatedAt); insert.Text(16, s.TenantId);
        insert.EndRow();
    }

    private static readonly string[] ErrorColumns = ["run_id", "seq", "topic", "error", "node", "tenant_id"];

    /// One batch of runs with their steps and errors, encoded for the three inserts.
    private sealed class SeedBatch
    {
        public RowBuffer Runs { get; } = new(RunColumns.Length);
        public RowBuffer Steps { get; } = new(StepColumns.Length);
        public RowBuffer Errors { get; } = new(ErrorColumns.Length);

        public void Clear()
        {
            Runs.Clear();
            Steps.Clear();
            Errors.Clear();
        }

        public void Add(DemoRun run)
        {
            EncodeRun(Runs, run.Run);
            foreach (var step in run.Steps) EncodeStep(Steps, step);
            for (var e = 0; e < run.Errors.Count; e++)
            {
                Errors.Text(1, run.Run.Id); Errors.Int(2, e); Errors.Text(3, run.Errors[e].Topic);
                Errors.Text(4, run.Errors[e].Error); Errors.Text(5, run.Errors[e].Node); Errors.Text(6, run.Run.TenantId);
                Errors.EndRow();
            }
        }
    }
}
