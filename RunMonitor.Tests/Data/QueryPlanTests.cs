using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Bulk;
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
            // What the seed leaves: the runs and derived tables analyzed, the steps not (the admin page's skills
            // sample walked every step under exactly these statistics).
            await connection.ExecuteAsync(SeedCommand.AnalyzeForPlanner);
            if (StatisticsRows is { } rows) await ScaleStatisticsAsync(connection, rows);
        }

        /// When set, the runs' statistics are scaled to say the table holds this many runs.
        protected virtual long? StatisticsRows => null;
    }

    /// The seeded store with the runs' statistics scaled to ten million (`sqlite_stat1` is plain data SQLite reads at
    /// `ANALYZE sqlite_schema`): the planner weighs every statement as it would at the 10M bench store, where a
    /// plan that suits 20,000 runs can flip to a walk of a whole table.
    public sealed class TenMillionFactory : SeededFactory
    {
        protected override long? StatisticsRows => 10_000_000;
    }

    /// Every figure of the runs' `sqlite_stat1` rows (the row count, then the rows per distinct prefix of each index)
    /// grows by the ratio of `rows` to today's count; a prefix that names one run (1) stays one.
    private static async Task ScaleStatisticsAsync(System.Data.Common.DbConnection connection, long rows)
    {
        var stats = (await connection.QueryAsync<(string Idx, string Stat)>("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'runs'")).ToList();
        Assert.NotEmpty(stats);
        foreach (var (idx, stat) in stats)
        {
            var figures = stat.Split(' ');
            var ratio = (double)rows / long.Parse(figures[0], System.Globalization.CultureInfo.InvariantCulture);
            var scaled = figures.Select((f, i) => long.TryParse(f, out var n) && (i == 0 || n > 1) ? ((long)Math.Round(n * ratio)).ToString(System.Globalization.CultureInfo.InvariantCulture) : f);
            await connection.ExecuteAsync("UPDATE sqlite_stat1 SET stat = @Stat WHERE tbl = 'runs' AND idx IS @Idx", new { Stat = string.Join(' ', scaled), Idx = idx });
        }
        await connection.ExecuteAsync("ANALYZE sqlite_schema");
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

    /// The plan's lines, with an alias of runs or steps (`SCAN s`) spelled as its table (`SCAN steps`) so a walk
    /// through an alias is seen.
    internal static async Task<IReadOnlyList<string>> PlanAsync(Database database, string sql, object? parameters)
    {
        await using var connection = await database.OpenAsync();
        var aliases = Alias.Matches(sql).ToDictionary(m => m.Groups["alias"].Value, m => m.Groups["table"].Value.ToLowerInvariant(), StringComparer.OrdinalIgnoreCase);
        return (await connection.QueryAsync<(long, long, long, string)>("EXPLAIN QUERY PLAN " + sql, parameters))
            .Select(r => PlanTable.Replace(r.Item4, m => aliases.TryGetValue(m.Groups[2].Value, out var table) ? $"{m.Groups[1].Value} {table}" : m.Value))
            .ToList();
    }

    private static readonly Regex Alias = new(
        @"\b(?:FROM|JOIN)\s+(?<table>runs|steps)\s+(?:AS\s+)?(?!(?:WHERE|ON|JOIN|CROSS|LEFT|INNER|ORDER|GROUP|LIMIT|USING|INDEXED|NOT|AS)\b)(?<alias>[A-Za-z_]\w*)",
        RegexOptions.Compiled | RegexOptions.IgnoreCase);
    private static readonly Regex PlanTable = new(@"^(SCAN|SEARCH) (\w+)\b", RegexOptions.Compiled);

    internal static void AssertNoFullScan(string what, IReadOnlyList<string> plan) =>
        Assert.False(plan.Any(FullScan.IsMatch), $"{what} scans a whole table:\n  {string.Join("\n  ", plan)}");

    /// Each statement planned on `database`, none walking runs or steps.
    internal static async Task AssertNoFullScansAsync(Database database, IEnumerable<(string What, string Sql, object Parameters)> statements)
    {
        foreach (var (what, sql, parameters) in statements)
            AssertNoFullScan(what, await PlanAsync(database, sql, parameters));
    }

    /// Each statement planned on `database` scans no table and searches by the index it names.
    internal static async Task AssertUsesIndexesAsync(Database database, IEnumerable<(string What, string Sql, object Parameters, string Index)> statements)
    {
        foreach (var (what, sql, parameters, index) in statements)
        {
            var plan = await PlanAsync(database, sql, parameters);
            var shown = $"{what}:\n  {string.Join("\n  ", plan)}";
            Assert.False(plan.Any(p => Regex.IsMatch(p, @"^SCAN ")), shown);
            Assert.True(plan.Any(p => Regex.IsMatch(p, $@"^SEARCH \w+ USING (COVERING )?INDEX {index} ")), shown);
        }
    }

    [Fact]
    public async Task Stats_RecentAndWorkerQueries_UseIndexes()
    {
        await factory.Seeded;
        await AssertStatsRecentAndWorkerPlansAsync(factory.Services.GetRequiredService<Database>());
    }

    internal static async Task AssertStatsRecentAndWorkerPlansAsync(Database database)
    {
        var stats = new { Tenant = "acme", SinceHour = "2026-11-15T00" };
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
        foreach (var (what, sql) in AdminStatements(database.Dialect))
            AssertNoFullScan(what, await PlanAsync(database, sql, Admin));
    }

    /// A table page reads its runs' first listed errors (`RunList.SelectFirstListedErrors`) by run_errors' key, tenant
    /// and id, both where it finds each run's lowest seq and where it reads that error.
    [Fact]
    public async Task FirstListedErrors_SearchRunErrorsByTheirKey()
    {
        await factory.Seeded;

        var plan = await PlanAsync(factory.Services.GetRequiredService<Database>(), RunList.SelectFirstListedErrors, FirstListedErrors);

        var shown = string.Join("\n  ", plan);
        Assert.DoesNotContain(plan, p => Regex.IsMatch(p, @"^SCAN (run_errors|e)\b"));
        Assert.True(plan.Count(p => Regex.IsMatch(p, @"^SEARCH (run_errors|e) USING (COVERING )?INDEX \w+ \(tenant_id=\? AND run_id=\?")) == 2, shown);
    }

    /// An operation's page of runs (`BulkStore.SelectItems`) reads its items by their key (operation, seq) and each run
    /// and the run its retry made by (tenant, id), for a tenant and for a super admin: the page costs its own rows.
    [Fact]
    public async Task BulkItemsPage_ReadsItemsByTheirKey_RunsByTenantAndId()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        foreach (var (what, sql) in BulkItemsStatements)
        {
            var plan = await PlanAsync(database, sql, BulkItems);

            var shown = $"{what}:\n  {string.Join("\n  ", plan)}";
            AssertNoFullScan(what, plan);
            Assert.DoesNotContain(plan, p => Regex.IsMatch(p, @"^SCAN bulk_items\b"));
            Assert.True(plan.Any(p => Regex.IsMatch(p, @"^SEARCH bulk_items USING .*\(operation_id=\?")), shown);
            Assert.True(plan.Count(p => Regex.IsMatch(p, @"^SEARCH runs USING .*INDEX \w+ \(tenant_id=\? AND id=\?\)")) == 2, shown);
        }
    }

    internal static readonly object BulkItems = new { Id = 1L, Tenant = "acme", Limit = BulkStore.ItemsPageSize, Offset = 50L };

    internal static IEnumerable<(string What, string Sql)> BulkItemsStatements =>
        [("an operation's runs, a tenant's", BulkStore.SelectItemsOfTenant), ("an operation's runs, a super admin's", BulkStore.SelectItemsOfAnyTenant)];

    /// A super admin's page of two tenants' runs.
    internal static readonly object FirstListedErrors = new { Tenants = new[] { "acme", "globex" }, Ids = new[] { "run-a", "run-b", "run-c" } };

    /// The admin page's statements, with the parameters of a 7-day window.
    internal static readonly object Admin = new { Since = "2026-11-15T00:00:00.000Z", SinceHour = "2026-11-15T00", SinceDay = "2026-11-15", Sample = AdminStore.RunSample, Runs = AdminStore.StepRunSample, Limit = 10 };

    internal static IEnumerable<(string What, string Sql)> AdminStatements(ISqlDialect dialect) =>
    [
        ("admin p95 of runs", AdminStore.P95Runs),
        ("admin slowest skills", dialect.SlowestSkills),
        ("admin runs per day", AdminStore.RunsPerDay),
        ("admin top failing", AdminStore.TopFailing),
        ("admin usage", dialect.UsageByTenantModel),
    ];

    [Fact]
    public async Task FullScanPattern_RecognisesATableWalk()
    {
        await factory.Seeded;

        var plan = await PlanAsync(factory.Services.GetRequiredService<Database>(), "SELECT * FROM runs WHERE error_message LIKE '%x%'", null);

        Assert.Contains(plan, FullScan.IsMatch);
    }
}
