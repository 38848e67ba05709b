using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Data;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Alerts;

/// Every alert rule's measure, for every scope (each tenant or all, a workflow or none), and the workers list read
/// counters, rollups or an index range over a seeded store: never a walk of the runs, so an evaluation stays cheap
/// however many runs there are (QueryPlanTests' rule, on each engine).
public static class AlertPlans
{
    public static IEnumerable<(string What, string Sql, object Parameters)> Statements()
    {
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        foreach (var kind in AlertKind.All)
        foreach (var tenant in new[] { "acme", null })
        foreach (var workflow in new[] { "channel-digest", null })
        {
            var rule = new AlertRule("r", kind, 1, TimeSpan.FromMinutes(60), workflow, tenant);
            yield return ($"{kind} tenant={tenant ?? "all"} workflow={workflow ?? "any"}", AlertStore.SqlFor(rule), AlertStore.ParametersFor(rule, now));
        }
        foreach (var tenant in new[] { "acme", null })
        {
            var p = new { Tenant = tenant, Since = "2026-11-20T12:00:00.000Z", FromHour = "2026-11-20T12" };
            yield return ($"workers tenant={tenant ?? "all"}", WorkerBook.Scoped(WorkerBook.SelectWorkers, tenant), p);
            yield return ($"runs held tenant={tenant ?? "all"}", WorkerBook.Scoped(WorkerBook.SelectHeld, tenant), p);
            yield return ($"worker counts tenant={tenant ?? "all"}", WorkerBook.Scoped(WorkerBook.SelectCounts, tenant), p);
        }
    }
}

public sealed class AlertQueryPlanTests(QueryPlanTests.SeededFactory factory) : IClassFixture<QueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task AlertMeasuresAndWorkerReads_NeverScanRuns()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        await QueryPlanTests.AssertNoFullScansAsync(database, AlertPlans.Statements());
    }
}

public sealed class PostgresAlertQueryPlanTests(PostgresQueryPlanTests.SeededFactory factory) : IClassFixture<PostgresQueryPlanTests.SeededFactory>
{
    [Fact]
    public async Task AlertMeasuresAndWorkerReads_NeverScanRuns()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        await PostgresQueryPlanTests.AssertNoFullScansAsync(database, AlertPlans.Statements());
    }
}
