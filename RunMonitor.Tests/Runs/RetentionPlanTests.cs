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
}

public sealed class RetentionPlanTests(QueryPlanTests.SeededFactory factory) : IClassFixture<QueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task RetentionDeletes_UseTheirIndexes()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        await QueryPlanTests.AssertUsesIndexesAsync(database, RetentionPlans.Statements(database.Dialect));
    }
}

public sealed class PostgresRetentionPlanTests(PostgresQueryPlanTests.SeededFactory factory) : IClassFixture<PostgresQueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task RetentionDeletes_UseTheirIndexes()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        await PostgresQueryPlanTests.AssertUsesIndexesAsync(database, RetentionPlans.Statements(database.Dialect));
    }
}
