using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Data;

/// Queries are read by SQLite's planner over a store with realistic data and statistics; a full scan of runs or
/// steps fails the test. Here: the stats, recent and worker statements (the list's are `RunListQueryTests`).
public sealed class QueryPlanTests(QueryPlanTests.SeededFactory factory) : IClassFixture<QueryPlanTests.SeededFactory>
{
    public class SeededFactory : RunMonitorFactory
    {
        private readonly Lazy<Task> _seeded;

        public SeededFactory() => _seeded = new Lazy<Task>(SeedAsync);

        public Task Seeded => _seeded.Value;

        /// The seed command analyzes what it loads; a store that grew through ingest has no statistics at all.
        protected virtual bool Analyze => true;

        /// Runs of a sweep whose names all hold "nightly" (with the demo's own, more than the list's drive limit of
        /// trigram matches), spread over the same 30 days: a common name is searched newest-first, within the window.
        public const int Sweeps = 12_000;

        private async Task SeedAsync()
        {
            await SeedRunsAsync(this, 9_000, TimeSpan.FromDays(30));
            var database = Services.GetRequiredService<Database>();
            await database.WriteAsync((c, tx) => c.ExecuteAsync("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @Sweeps)
                INSERT INTO runs (id, tenant_id, workflow_name, name, status, created_at, completed_at, duration_ms, updated_at)
                SELECT printf('sweep%06d', i), CASE i % 3 WHEN 0 THEN 'acme' WHEN 1 THEN 'globex' ELSE 'initech' END, 'nightly-sweep',
                       'Nightly sweep ' || i, CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'completed' END,
                       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-21T12:00:00', '-' || (i * 216) || ' seconds'),
                       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-21T12:00:00', '-' || (i * 216 - 30) || ' seconds'), 30000 + i, '2026-11-21T12:00:00.000Z'
                FROM n
                """, new { Sweeps }, tx));
            while (await Services.GetRequiredService<NameIndexer>().IndexPassAsync() > 0) { }
            if (!Analyze) return;
            await using var connection = await database.OpenAsync();
            await connection.ExecuteAsync("ANALYZE main;");
        }
    }

    public sealed class UnanalyzedFactory : SeededFactory
    {
        protected override bool Analyze => false;
    }

    /// `count` realistic finished runs spread evenly over the `span` before the factory's clock.
    internal static async Task SeedRunsAsync(RunMonitorFactory app, int count, TimeSpan span)
    {
        var factory = new DemoRunFactory(new Random(7), app.Services.GetRequiredService<PriceTable>());
        var now = app.Clock.GetUtcNow();
        var runs = new List<DemoRun>();
        for (var i = 0; i < count; i++)
        {
            var created = now - span * i / count;
            runs.Add(factory.Finished(RunService.NewId(created), factory.PickTenant(), factory.PickWorkflow(), created, factory.PickOutcome()));
        }
        await DemoData.WriteAsync(app.Services.GetRequiredService<Database>(), runs);
    }

    // "SCAN runs" with no index is a walk of the whole table; SEARCH or an ordered index scan that stops at the page is not.
    private static readonly Regex FullScan = new(@"^SCAN (runs|steps)\b(?! USING)", RegexOptions.Compiled);

    internal static async Task<IReadOnlyList<string>> PlanAsync(Database database, string sql, object? parameters)
    {
        await using var connection = await database.OpenAsync();
        return (await connection.QueryAsync<(long, long, long, string)>("EXPLAIN QUERY PLAN " + sql, parameters)).Select(r => r.Item4).ToList();
    }

    internal static void AssertNoFullScan(string what, IReadOnlyList<string> plan) =>
        Assert.False(plan.Any(FullScan.IsMatch), $"{what} scans a whole table:\n  {string.Join("\n  ", plan)}");

    [Fact]
    public async Task Stats_RecentAndWorkerQueries_UseIndexes()
    {
        await factory.Seeded;
        await AssertStatsRecentAndWorkerPlansAsync(factory.Services.GetRequiredService<Database>());
    }

    internal static async Task AssertStatsRecentAndWorkerPlansAsync(Database database)
    {
        var stats = new { Tenant = "acme", Since = "2026-11-14T12:30:00.000Z", FirstHourStart = "2026-11-14T13:00:00.000Z", FirstHour = "2026-11-14T13" };
        var claim = new { Tenant = "acme", Workflows = new[] { "channel-digest" }, Worker = "w", LeaseSeconds = 60, Now = "x", ExpiresAt = "y" };

        AssertNoFullScan("stats for a tenant", await PlanAsync(database, database.Dialect.Stats(allTenants: false), stats));
        AssertNoFullScan("stats for all tenants", await PlanAsync(database, database.Dialect.Stats(allTenants: true), stats));
        AssertNoFullScan("recent for a tenant", await PlanAsync(database, RunList.SelectRecent, new { Tenant = "acme", Limit = 5 }));
        AssertNoFullScan("recent for all", await PlanAsync(database, RunList.SelectRecentAll, new { Limit = 5 }));
        AssertNoFullScan("steps of a run", await PlanAsync(database, RunRows.SelectSteps, new { Tenant = "acme", RunId = "r" }));
        AssertNoFullScan("a run by tenant and id", await PlanAsync(database, RunRows.SelectRun, new { Tenant = "acme", Id = "r" }));
        AssertNoFullScan("the tenants holding an id", await PlanAsync(database, RunRows.SelectTenantsOfId, new { Id = "r" }));
        AssertNoFullScan("claim any", await PlanAsync(database, RunQueue.ClaimSql(database.Dialect, tenant: false, workflows: false), claim));
        AssertNoFullScan("claim tenant", await PlanAsync(database, RunQueue.ClaimSql(database.Dialect, tenant: true, workflows: false), claim));
        AssertNoFullScan("claim workflows", await PlanAsync(database, RunQueue.ClaimSql(database.Dialect, tenant: false, workflows: true), claim));
        AssertNoFullScan("claim tenant workflows", await PlanAsync(database, RunQueue.ClaimSql(database.Dialect, tenant: true, workflows: true), claim));
        AssertNoFullScan("expired leases", await PlanAsync(database, RunQueue.ExpiredLeasesSql(database.Dialect), new { Now = "2026-11-21T12:00:00.000Z" }));
    }

    [Fact]
    public async Task FullScanPattern_RecognisesATableWalk()
    {
        await factory.Seeded;

        var plan = await PlanAsync(factory.Services.GetRequiredService<Database>(), "SELECT * FROM runs WHERE error_message LIKE '%x%'", null);

        Assert.Contains(plan, FullScan.IsMatch);
    }
}
