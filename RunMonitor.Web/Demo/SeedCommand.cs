using System.Diagnostics;
using System.Globalization;
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
        var watch = Stopwatch.StartNew();
        var random = new Random(42);
        var factory = new DemoRunFactory(random, prices);
        var now = time.GetUtcNow();
        var span = TimeSpan.FromDays(30).TotalMilliseconds;
        var workflows = new HashSet<(string, string)>();

        await using var connection = await database.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            // Bulk load: the data is regenerable, so trade durability for speed while it runs.
            pragma.CommandText = "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;";
            await pragma.ExecuteNonQueryAsync();
        }
        using var insertRun = Prepare(connection, RunInsert, RunParameters);
        using var insertStep = Prepare(connection, StepInsert, StepParameters);
        using var insertError = Prepare(connection, ErrorInsert, ["$run_id", "$seq", "$topic", "$error", "$node"]);

        var written = 0;
        while (written < runs)
        {
            var count = Math.Min(BatchSize, runs - written);
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync();
            insertRun.Transaction = insertStep.Transaction = insertError.Transaction = tx;
            for (var i = 0; i < count; i++)
            {
                // Runs arrive in time order over the 30 days, as they would have, so every index appends.
                var createdAt = now.AddMilliseconds(-span + (written + i + random.NextDouble()) * (span / runs));
                var workflow = factory.PickWorkflow();
                var tenant = factory.PickTenant();
                var run = factory.Finished(RunService.NewId(createdAt), tenant, workflow, createdAt, factory.PickOutcome());
                workflows.Add((tenant, workflow.Name));
                WriteRun(insertRun, run.Run);
                foreach (var step in run.Steps) WriteStep(insertStep, step);
                for (var e = 0; e < run.Errors.Count; e++)
                {
                    var p = insertError.Parameters;
                    p[0].Value = run.Run.Id; p[1].Value = e; p[2].Value = run.Errors[e].Topic;
                    p[3].Value = run.Errors[e].Error; p[4].Value = (object?)run.Errors[e].Node ?? DBNull.Value;
                    insertError.ExecuteNonQuery();
                }
            }
            await tx.CommitAsync();
            written += count;
            if (written % 100_000 == 0 || written == runs)
                await output.WriteLineAsync($"seeded {written.ToString("N0", CultureInfo.InvariantCulture)} runs in {watch.Elapsed.TotalSeconds:F1}s");
        }
        await database.WriteAsync(async (c, tx) =>
        {
            foreach (var (tenant, workflow) in workflows) await RunStore.TouchWorkflowAsync(c, tx, tenant, workflow, DbTime.ToDb(now));
            return 0;
        });
        await using (var analyze = connection.CreateCommand())
        {
            analyze.CommandText = "PRAGMA optimize; ANALYZE;";
            await analyze.ExecuteNonQueryAsync();
        }
        await output.WriteLineAsync($"done: {runs.ToString("N0", CultureInfo.InvariantCulture)} runs in {watch.Elapsed.TotalSeconds:F1}s into {database.Path}");
        return 0;
    }

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

    private static readonly string[] RunParameters =
    [
        "$id", "$tenant_id", "$workflow_name", "$name", "$status", "$dry_run", "$trigger_payload", "$context",
        "$error_message", "$error_type", "$error_stack", "$created_at", "$started_at", "$completed_at", "$duration_ms",
        "$targets_matched", "$targets_processed", "$targets_skipped", "$insights_created", "$model_profile",
        "$model_provider", "$model_name", "$tokens_input", "$tokens_output", "$cost_usd", "$layer_hash", "$retry_of",
        "$steps_total", "$steps_completed", "$updated_at",
    ];

    private static readonly string RunInsert =
        "INSERT INTO runs (" + string.Join(", ", RunParameters.Select(p => p[1..])) + ") VALUES (" + string.Join(", ", RunParameters) + ")";

    private static readonly string[] StepParameters =
    [
        "$run_id", "$step_id", "$seq", "$skill_id", "$status", "$started_at", "$completed_at", "$duration_ms",
        "$cache_hit", "$attempt", "$input", "$output", "$error_message", "$error_stack", "$updated_at",
    ];

    private static readonly string StepInsert =
        "INSERT INTO steps (" + string.Join(", ", StepParameters.Select(p => p[1..])) + ") VALUES (" + string.Join(", ", StepParameters) + ")";

    private const string ErrorInsert = "INSERT INTO run_errors (run_id, seq, topic, error, node) VALUES ($run_id, $seq, $topic, $error, $node)";

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, string[] names)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in names) command.Parameters.Add(new SqliteParameter(name, null));
        return command;
    }

    private static void WriteRun(SqliteCommand command, RunRow r)
    {
        object?[] values =
        [
            r.Id, r.TenantId, r.WorkflowName, r.Name, r.Status, r.DryRun, r.TriggerPayload, r.Context,
            r.ErrorMessage, r.ErrorType, r.ErrorStack, r.CreatedAt, r.StartedAt, r.CompletedAt, r.DurationMs,
            r.TargetsMatched, r.TargetsProcessed, r.TargetsSkipped, r.InsightsCreated, r.ModelProfile,
            r.ModelProvider, r.ModelName, r.TokensInput, r.TokensOutput, r.CostUsd, r.LayerHash, r.RetryOf,
            r.StepsTotal, r.StepsCompleted, r.UpdatedAt,
        ];
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
        command.ExecuteNonQuery();
    }

    private static void WriteStep(SqliteCommand command, StepRow s)
    {
        object?[] values =
        [
            s.RunId, s.StepId, s.Seq, s.SkillId, s.Status, s.StartedAt, s.CompletedAt, s.DurationMs,
            s.CacheHit, s.Attempt, s.Input, s.Output, s.ErrorMessage, s.ErrorStack, s.UpdatedAt,
        ];
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i] ?? DBNull.Value;
        command.ExecuteNonQuery();
    }
}
