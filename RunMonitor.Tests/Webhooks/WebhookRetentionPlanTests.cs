using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Data;
using RunMonitor.Web.Data;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Webhooks;

/// Retention's deletes of webhook deliveries find their rows by an index: a purged run's by (tenant_id, run_id), an
/// alert event's by the partial index on created_at; never a walk of every delivery, which grows with every run ended.
internal static class WebhookRetentionPlans
{
    /// The index each of retention's deletes must go by.
    public static IEnumerable<(string What, string Sql, object Parameters, string Index)> Statements(ISqlDialect dialect) =>
        WebhookOutbox.RetentionStatements(dialect).Select(s =>
            (s.What, s.Sql, s.Parameters, s.What.Contains("event", StringComparison.Ordinal) ? "ix_webhook_deliveries_events" : "ix_webhook_deliveries_run"));
}

public sealed class WebhookRetentionPlanTests(QueryPlanTests.SeededFactory factory) : IClassFixture<QueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task RetentionDeletes_UseIndexes()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        foreach (var (what, sql, parameters, index) in WebhookRetentionPlans.Statements(database.Dialect))
        {
            var plan = await QueryPlanTests.PlanAsync(database, sql, parameters);
            Assert.False(plan.Any(p => Regex.IsMatch(p, @"^SCAN webhook_deliveries\b")), $"{what}:\n  {string.Join("\n  ", plan)}");
            Assert.True(plan.Any(p => p.StartsWith($"SEARCH webhook_deliveries USING INDEX {index} ", StringComparison.Ordinal)), $"{what}:\n  {string.Join("\n  ", plan)}");
        }
    }
}

public sealed class PostgresWebhookRetentionPlanTests(PostgresQueryPlanTests.SeededFactory factory) : IClassFixture<PostgresQueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task RetentionDeletes_UseIndexes()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        foreach (var (what, sql, parameters, index) in WebhookRetentionPlans.Statements(database.Dialect))
        {
            var plan = await PostgresQueryPlanTests.PlanAsync(database, sql, parameters);
            Assert.DoesNotContain(plan, p => p.Contains("Seq Scan on webhook_deliveries", StringComparison.Ordinal));
            Assert.True(plan.Any(p => p.Contains($"Index Scan using {index} on webhook_deliveries", StringComparison.Ordinal)
                || p.Contains($"Bitmap Index Scan on {index}", StringComparison.Ordinal)), $"{what}:\n  {string.Join("\n  ", plan)}");
        }
    }
}
