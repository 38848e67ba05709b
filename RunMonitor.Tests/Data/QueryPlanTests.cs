using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Data;

/// Every list, count and stats query is read by SQLite's planner over a store with realistic data and
/// statistics; a full scan of runs or steps fails the test, so a new filter cannot quietly walk the table.
public sealed class QueryPlanTests(QueryPlanTests.SeededFactory factory) : IClassFixture<QueryPlanTests.SeededFactory>
{
    public class SeededFactory : RunMonitorFactory
    {
        private readonly Lazy<Task> _seeded;

        public SeededFactory() => _seeded = new Lazy<Task>(SeedAsync);

        public Task Seeded => _seeded.Value;

        /// The seed command analyzes what it loads; a store that grew through ingest has no statistics at all.
        protected virtual bool Analyze => true;

        private async Task SeedAsync()
        {
            await SeedRunsAsync(this, 9_000, TimeSpan.FromDays(30));
            if (!Analyze) return;
            await using var connection = await Services.GetRequiredService<Database>().OpenAsync();
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

    /// The page and total queries of the list for `query`, as the super admin and as a tenant's viewer.
    internal static async Task<IReadOnlyList<(string What, string Sql, object Parameters)>> ListStatementsAsync(Database database, string query)
    {
        var statements = new List<(string, string, object)>();
        foreach (var caller in new[] { new Caller(null, Roles.Admin), new Caller("acme", Roles.Viewer) })
        {
            var (filter, error) = RunFilter.Parse(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)
                .ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), caller);
            Assert.Null(error);
            await using var connection = await database.OpenAsync();
            var list = await RunStore.BuildListQueryAsync(connection, filter!);
            var who = caller.TenantId ?? "super admin";
            statements.Add(($"list '{query}' as {who}", list.ItemsSql, list.Parameters));
            statements.Add(($"count '{query}' as {who}", list.CountSql, list.Parameters));
        }
        return statements;
    }

    // "SCAN runs" with no index is a walk of the whole table; SEARCH or an ordered index scan that stops at the page is not.
    private static readonly Regex FullScan = new(@"^SCAN (runs|steps)\b(?! USING)", RegexOptions.Compiled);

    private Task<IReadOnlyList<string>> PlanAsync(string sql, object? parameters) =>
        PlanAsync(factory.Services.GetRequiredService<Database>(), sql, parameters);

    internal static async Task<IReadOnlyList<string>> PlanAsync(Database database, string sql, object? parameters)
    {
        await using var connection = await database.OpenAsync();
        return (await connection.QueryAsync<(long, long, long, string)>("EXPLAIN QUERY PLAN " + sql, parameters)).Select(r => r.Item4).ToList();
    }

    internal static void AssertNoFullScan(string what, IReadOnlyList<string> plan) =>
        Assert.False(plan.Any(FullScan.IsMatch), $"{what} scans a whole table:\n  {string.Join("\n  ", plan)}");

    public static TheoryData<string> ListQueries() =>
    [
        "", "status=failed", "status=failed,partial", "status=queued", "layer_name=nightly-user-reflection",
        "layer_name=nightly-user-reflection&status=failed", "q=zzzz-no-such-run", "q=reflection", "q=Nightly",
        "q=0", "from=2026-11-10&to=2026-11-12", "from=2026-11-10T08:00:00Z", "sort=created", "sort=status",
        "sort=-status", "sort=duration", "sort=-duration", "offset=5000", "status=failed&sort=-duration",
        "layer_name=channel-digest&q=digest&sort=-duration",
    ];

    [Theory]
    [MemberData(nameof(ListQueries))]
    public async Task List_EveryFilter_UsesIndexesForPageAndTotal(string query)
    {
        await factory.Seeded;
        foreach (var (what, sql, parameters) in await ListStatementsAsync(factory.Services.GetRequiredService<Database>(), query))
            AssertNoFullScan(what, await PlanAsync(sql, parameters));
    }

    [Fact]
    public async Task List_SearchWithFewMatches_IsDrivenByTheNameIndex()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        var (filter, _) = RunFilter.Parse(new Dictionary<string, string?[]> { ["q"] = ["zzzz-no-such-run"] }, new Caller(null, Roles.Admin));
        await using var connection = await database.OpenAsync();
        var list = await RunStore.BuildListQueryAsync(connection, filter!);

        var plan = await PlanAsync(list.ItemsSql, list.Parameters);

        Assert.Contains(plan, line => line.Contains("runs_name_fts", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => Regex.IsMatch(line, @"^SCAN runs\b"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("acme")]
    public async Task List_CommonSearchTerm_PageAndCappedTotalMatchTheNames(string? tenant)
    {
        await factory.Seeded;
        var query = new Dictionary<string, string?[]> { ["q"] = ["nightly"] };
        if (tenant is not null) query["tenant"] = [tenant];
        var (filter, _) = RunFilter.Parse(query, new Caller(null, Roles.Admin));
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
        var everywhere = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE name LIKE '%nightly%'");
        var truth = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM runs WHERE name LIKE '%nightly%' AND (@Tenant IS NULL OR tenant_id = @Tenant)", new { Tenant = tenant });

        var page = await factory.Services.GetRequiredService<RunStore>().ListAsync(filter!);

        Assert.True(everywhere > 2_000, $"the term must be common enough for the newest-first path ({everywhere} matches)");
        Assert.Equal((Math.Min(truth, RunStore.CountCap), truth > RunStore.CountCap), (page.Total, page.TotalCapped));
        Assert.Equal(RunFilter.DefaultLimit, page.Items.Count);
        Assert.All(page.Items, run => Assert.Contains("nightly", run.Name!, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(page.Items.OrderByDescending(r => r.CreatedAt, StringComparer.Ordinal).Select(r => r.Id), page.Items.Select(r => r.Id));
    }

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

        AssertNoFullScan("stats for a tenant", await PlanAsync(database, RunStore.StatsTenant, stats));
        AssertNoFullScan("stats for all tenants", await PlanAsync(database, RunStore.StatsAll, stats));
        AssertNoFullScan("recent for a tenant", await PlanAsync(database, RunStore.SelectRecent, new { Tenant = "acme", Limit = 5 }));
        AssertNoFullScan("recent for all", await PlanAsync(database, RunStore.SelectRecentAll, new { Limit = 5 }));
        AssertNoFullScan("steps of a run", await PlanAsync(database, RunStore.SelectSteps, new { RunId = "r" }));
        AssertNoFullScan("claim any", await PlanAsync(database, RunStore.ClaimAny, claim));
        AssertNoFullScan("claim tenant", await PlanAsync(database, RunStore.ClaimTenant, claim));
        AssertNoFullScan("claim workflows", await PlanAsync(database, RunStore.ClaimAnyWorkflows, claim));
        AssertNoFullScan("claim tenant workflows", await PlanAsync(database, RunStore.ClaimTenantWorkflows, claim));
        AssertNoFullScan("expired leases", await PlanAsync(database, RunStore.SelectExpiredLeases, new { Now = "2026-11-21T12:00:00.000Z" }));
    }

    [Fact]
    public async Task FullScanPattern_RecognisesATableWalk()
    {
        await factory.Seeded;

        var plan = await PlanAsync("SELECT * FROM runs WHERE error_message LIKE '%x%'", null);

        Assert.Contains(plan, FullScan.IsMatch);
    }
}
