using Microsoft.Data.Sqlite;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Demo;

/// What the counter, rollup and daily-usage triggers would have added for the seeded runs, summed as the
/// runs are made (on the producer thread, which has time to spare) and added to the tables in one upsert
/// each: the same figures as the backfills of migrations 0005 and 0006, without more passes over the runs.
internal sealed class SeedTotals
{
    private readonly Dictionary<(string Tenant, string Workflow, string Status), long> _counts = [];
    private readonly Dictionary<(string Tenant, string Hour, string Status, long Dry), Rollup> _rollups = [];
    private readonly Dictionary<(string Tenant, string Day, string Workflow, string Model, string Status), Daily> _daily = [];

    private sealed class Rollup
    {
        public long Runs, Insights, TokensInput, TokensOutput, DurationSum, DurationCount;
        public Sum Cost;
    }

    private sealed class Daily
    {
        public long Runs, UsageRuns, EstimatedRuns, TokensInput, TokensOutput;
        public Sum Cost;
    }

    /// A compensated sum (as SQLite's TOTAL is), so the order of the runs does not move the cents.
    private struct Sum
    {
        private double _sum, _compensation;

        public void Add(double value)
        {
            var t = _sum + value;
            _compensation += Math.Abs(_sum) >= Math.Abs(value) ? (_sum - t) + value : (value - t) + _sum;
            _sum = t;
        }

        public readonly double Value => _sum + _compensation;
    }

    public void Add(RunRow run)
    {
        var countKey = (run.TenantId, run.WorkflowName, run.Status);
        _counts[countKey] = _counts.GetValueOrDefault(countKey) + 1;

        var rollupKey = (run.TenantId, run.CreatedAt[..13], run.Status, run.DryRun);
        if (!_rollups.TryGetValue(rollupKey, out var rollup)) _rollups[rollupKey] = rollup = new Rollup();
        rollup.Runs++;
        rollup.Insights += run.InsightsCreated ?? 0;
        rollup.Cost.Add(run.CostUsd ?? 0);
        rollup.TokensInput += run.TokensInput ?? 0;
        rollup.TokensOutput += run.TokensOutput ?? 0;
        rollup.DurationSum += run.DurationMs ?? 0;
        if (run.DurationMs is not null) rollup.DurationCount++;

        var dailyKey = (run.TenantId, run.CreatedAt[..10], run.WorkflowName, run.ModelName ?? "", run.Status);
        if (!_daily.TryGetValue(dailyKey, out var daily)) _daily[dailyKey] = daily = new Daily();
        daily.Runs++;
        if (run.TokensInput is not null || run.TokensOutput is not null || run.CostUsd is not null) daily.UsageRuns++;
        daily.EstimatedRuns += run.CostEstimated;
        daily.Cost.Add(run.CostUsd ?? 0);
        daily.TokensInput += run.TokensInput ?? 0;
        daily.TokensOutput += run.TokensOutput ?? 0;
    }

    // Added to what is there, as the triggers add: a store that already had runs keeps counting them.
    private const string AddCount = """
        INSERT INTO run_counts (tenant_id, workflow_name, status, n) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (tenant_id, workflow_name, status) DO UPDATE SET n = n + excluded.n
        """;

    private const string AddRollup = """
        INSERT INTO run_rollups (tenant_id, hour, status, dry, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
        ON CONFLICT (tenant_id, hour, status, dry) DO UPDATE SET
            runs = runs + excluded.runs, insights = insights + excluded.insights, cost_usd = cost_usd + excluded.cost_usd,
            tokens_input = tokens_input + excluded.tokens_input, tokens_output = tokens_output + excluded.tokens_output,
            duration_sum = duration_sum + excluded.duration_sum, duration_count = duration_count + excluded.duration_count
        """;

    private const string AddDaily = """
        INSERT INTO run_daily (tenant_id, day, workflow_name, model_name, status, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
        ON CONFLICT (tenant_id, day, workflow_name, model_name, status) DO UPDATE SET
            runs = runs + excluded.runs, usage_runs = usage_runs + excluded.usage_runs, estimated_runs = estimated_runs + excluded.estimated_runs,
            cost_usd = cost_usd + excluded.cost_usd, tokens_input = tokens_input + excluded.tokens_input,
            tokens_output = tokens_output + excluded.tokens_output
        """;

    public void Write(SqliteConnection connection)
    {
        using (var count = new RowInsert(connection, AddCount))
        {
            foreach (var ((tenant, workflow, status), n) in _counts)
            {
                count.Text(1, tenant); count.Text(2, workflow); count.Text(3, status); count.Int(4, n);
                count.Execute();
            }
        }
        using (var add = new RowInsert(connection, AddRollup))
        {
            foreach (var ((tenant, hour, status, dry), r) in _rollups)
            {
                add.Text(1, tenant); add.Text(2, hour); add.Text(3, status); add.Int(4, dry); add.Int(5, r.Runs); add.Int(6, r.Insights);
                add.Real(7, r.Cost.Value); add.Int(8, r.TokensInput); add.Int(9, r.TokensOutput); add.Int(10, r.DurationSum); add.Int(11, r.DurationCount);
                add.Execute();
            }
        }
        using (var add = new RowInsert(connection, AddDaily))
        {
            foreach (var ((tenant, day, workflow, model, status), d) in _daily)
            {
                add.Text(1, tenant); add.Text(2, day); add.Text(3, workflow); add.Text(4, model); add.Text(5, status); add.Int(6, d.Runs);
                add.Int(7, d.UsageRuns); add.Int(8, d.EstimatedRuns); add.Real(9, d.Cost.Value); add.Int(10, d.TokensInput); add.Int(11, d.TokensOutput);
                add.Execute();
            }
        }
    }
}
