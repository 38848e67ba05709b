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
        var counts = new RowBuffer(4);
        foreach (var ((tenant, workflow, status), n) in _counts)
        {
            counts.Text(1, tenant); counts.Text(2, workflow); counts.Text(3, status); counts.Int(4, n);
            counts.EndRow();
        }
        using (var add = new RowInsert(connection, AddCount)) add.InsertAll(counts);
        var rollups = new RowBuffer(11);
        foreach (var ((tenant, hour, status, dry), r) in _rollups)
        {
            rollups.Text(1, tenant); rollups.Text(2, hour); rollups.Text(3, status); rollups.Int(4, dry); rollups.Int(5, r.Runs); rollups.Int(6, r.Insights);
            rollups.Real(7, r.Cost.Value); rollups.Int(8, r.TokensInput); rollups.Int(9, r.TokensOutput); rollups.Int(10, r.DurationSum); rollups.Int(11, r.DurationCount);
            rollups.EndRow();
        }
        using (var add = new RowInsert(connection, AddRollup)) add.InsertAll(rollups);
        var daily = new RowBuffer(11);
        foreach (var ((tenant, day, workflow, model, status), d) in _daily)
        {
            daily.Text(1, tenant); daily.Text(2, day); daily.Text(3, workflow); daily.Text(4, model); daily.Text(5, status); daily.Int(6, d.Runs);
            daily.Int(7, d.UsageRuns); daily.Int(8, d.EstimatedRuns); daily.Real(9, d.Cost.Value); daily.Int(10, d.TokensInput); daily.Int(11, d.TokensOutput);
            daily.EndRow();
        }
        using (var add = new RowInsert(connection, AddDaily)) add.InsertAll(daily);
    }
}
