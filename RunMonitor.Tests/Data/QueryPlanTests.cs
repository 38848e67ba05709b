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

        /// Runs of a sweep whose names all hold "nightly" (with the demo's own, more than RunStore's drive limit of
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
        "layer_name=channel-digest&q=digest&sort=-duration", "q=nightly&sort=-duration", "q=nightly&sort=status&status=failed,partial",
        "q=nightly&layer_name=channel-digest", "q=nightly&offset=5000", "q=nightly&to=2026-11-01", "q=sweep 1&sort=duration",
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

        // The trigram index's matches arrive as a list (read once, before the page and the count).
        Assert.Contains(plan, line => line.Contains("json_each", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => Regex.IsMatch(line, @"^SCAN runs\b"));
    }

    // The newest runs first, as the list orders them: a window of the newest N is this query's first N.
    private const string NewestNames = """
        SELECT name FROM runs WHERE (@Tenant IS NULL OR tenant_id = @Tenant) AND (@To IS NULL OR created_at < @To)
        ORDER BY created_at DESC, pk DESC LIMIT @Window
        """;

    [Theory]
    [InlineData(null, null)] // 21,000 runs: the newest 10,000 are searched
    [InlineData("acme", null)] // 7,000 runs: every one is searched
    [InlineData(null, "2026-11-01")] // the window moved back by a date range
    public async Task List_CommonSearchTerm_IsSearchedInTheNewestRunsOfTheView(string? tenant, string? to)
    {
        await factory.Seeded;
        var query = new Dictionary<string, string?[]> { ["q"] = ["nightly"] };
        if (tenant is not null) query["tenant"] = [tenant];
        if (to is not null) query["to"] = [to];
        var (filter, _) = RunFilter.Parse(query, new Caller(null, Roles.Admin));
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
        // A date without a time includes that whole day.
        var before = to is null ? null : DateTime.Parse(to, System.Globalization.CultureInfo.InvariantCulture).AddDays(1).ToString("yyyy-MM-dd") + "T00:00:00.000Z";
        var everywhere = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE name LIKE '%nightly%'");
        var inView = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM runs WHERE (@Tenant IS NULL OR tenant_id = @Tenant) AND (@To IS NULL OR created_at < @To)", new { Tenant = tenant, To = before });
        var searched = (await connection.QueryAsync<string?>(NewestNames, new { Tenant = tenant, To = before, Window = RunStore.SearchWindow })).ToList();
        var truth = searched.Count(n => n?.Contains("nightly", StringComparison.OrdinalIgnoreCase) == true);

        var page = await factory.Services.GetRequiredService<RunStore>().ListAsync(filter!);

        Assert.True(everywhere > 10_000, $"the term must be common enough for the newest-first path ({everywhere} matches)");
        Assert.Equal(inView > RunStore.SearchWindow ? RunStore.SearchWindow : null, page.SearchedNewest);
        Assert.Equal((truth, false), (page.Total, page.TotalCapped));
        Assert.Equal(RunFilter.DefaultLimit, page.Items.Count);
        Assert.All(page.Items, run => Assert.Contains("nightly", run.Name!, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(page.Items.OrderByDescending(r => r.CreatedAt, StringComparer.Ordinal).Select(r => r.Id), page.Items.Select(r => r.Id));
    }

    [Fact]
    public async Task List_CommonSearchTerm_SaysWhatWasSearched_AndOtherSortsKeepTheWindow()
    {
        await factory.Seeded;
        var client = factory.CreateClient();

        var newest = await client.GetDocumentAsync("/ui/runs/list?q=nightly&sort=-duration");
        var note = newest.QuerySelector("p.search-window")?.TextContent ?? "";
        Assert.Contains("newest 10,000 runs", note);
        // The longest sweeps are the oldest ones (duration grows with age); outside the window, they are not shown.
        var durations = newest.QuerySelectorAll("table.runs-table tbody tr[data-run-id]").Select(tr => tr.GetAttribute("data-run-id")!).ToList();
        Assert.Equal(RunFilter.DefaultLimit, durations.Count);
        Assert.DoesNotContain("sweep012000", durations);

        var older = await client.GetDocumentAsync("/ui/runs/list?q=nightly+sweep&sort=-duration&to=2026-10-23");
        Assert.Equal("sweep012000", older.QuerySelector("table.runs-table tbody tr[data-run-id]")?.GetAttribute("data-run-id"));

        var json = await client.GetJsonAsync("/api/runs?q=nightly");
        Assert.Equal(RunStore.SearchWindow, (int)json["searchedNewest"]!);
        var few = await client.GetJsonAsync("/api/runs?q=zzzz-no-such-run");
        Assert.Null(few["searchedNewest"]);
        Assert.Null((await client.GetDocumentAsync("/ui/runs/list?q=zzzz-no-such-run")).QuerySelector("p.search-window"));
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
        AssertNoFullScan("steps of a run", await PlanAsync(database, RunStore.SelectSteps, new { Tenant = "acme", RunId = "r" }));
        AssertNoFullScan("a run by tenant and id", await PlanAsync(database, RunStore.SelectRun, new { Tenant = "acme", Id = "r" }));
        AssertNoFullScan("the tenants holding an id", await PlanAsync(database, RunStore.SelectTenantsOfId, new { Id = "r" }));
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
