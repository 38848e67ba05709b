using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Data;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Runs;

/// Retention's deletes beside the runs' own find their rows by an index each: a purged run's webhook deliveries by
/// (tenant_id, run_id), an alert event's deliveries by the partial index on created_at, old workers and their hours
/// and old alert events by time; never a walk of a table that grows with every run ended or every hour a worker works.
internal static class RetentionPlans
{
    public static IEnumerable<(string What, string Sql, object Parameters, string Index)> Statements(ISqlDialect dialect) =>
        WebhookOutbox.RetentionStatements(dialect).Concat(WorkerBook.RetentionStatements()).Concat(AlertEventRetention.RetentionStatements());

    public static string Show(string what, IEnumerable<string> plan) => $"{what}:\n  {string.Join("\n  ", plan)}";
}

public sealed class RetentionPlanTests(QueryPlanTests.SeededFactory factory) : IClassFixture<QueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task RetentionDeletes_UseTheirIndexes()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        foreach (var (what, sql, parameters, index) in RetentionPlans.Statements(database.Dialect))
        {
            var plan = await QueryPlanTests.PlanAsync(database, sql, parameters);
            Assert.False(plan.Any(p => Regex.IsMatch(p, @"^SCAN ")), RetentionPlans.Show(what, plan));
            Assert.True(plan.Any(p => Regex.IsMatch(p, $@"^SEARCH \w+ USING (COVERING )?INDEX {index} ")), RetentionPlans.Show(what, plan));
        }
    }
}

public sealed class PostgresRetentionPlanTests(PostgresQueryPlanTests.SeededFactory factory) : IClassFixture<PostgresQueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task RetentionDeletes_UseTheirIndexes()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        foreach (var (what, sql, parameters, index) in RetentionPlans.Statements(database.Dialect))
        {
            var plan = await PostgresQueryPlanTests.PlanAsync(database, sql, parameters);
            Assert.DoesNotContain(plan, p => p.Contains("Seq Scan", StringComparison.Ordinal));
            Assert.True(plan.Any(p => p.Contains($"Index Scan using {index} ", StringComparison.Ordinal) || p.Contains($"Index Only Scan using {index} ", StringComparison.Ordinal)
                || p.Contains($"Bitmap Index Scan on {index}", StringComparison.Ordinal)), RetentionPlans.Show(what, plan));
        }
    }
}
