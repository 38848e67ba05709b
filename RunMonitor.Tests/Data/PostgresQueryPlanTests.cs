using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Data;

/// `QueryPlanTests` for PostgreSQL (the list's are `RunListQueryTestsOnPostgres`): every stats and worker query is planned over a seeded,
/// analysed store with sequential scans priced out (a store this small would rightly be read whole), so a
/// `Seq Scan` on runs or steps that remains means no index can serve the query at all.
public sealed class PostgresQueryPlanTests(PostgresQueryPlanTests.SeededFactory factory) : IClassFixture<PostgresQueryPlanTests.SeededFactory>
{
    public sealed class SeededFactory() : RunMonitorFactory(TestStore.Postgres)
    {
        private Task? _seeded;

        public Task Seeded => _seeded ??= SeedAsync();

        private async Task SeedAsync()
        {
            await QueryPlanTests.SeedRunsAsync(this, 2_000, TimeSpan.FromDays(30));
            await using var connection = await Services.GetRequiredService<Database>().OpenAsync();
            await connection.ExecuteAsync("ANALYZE;");
        }
    }

    private static readonly Regex FullScan = new(@"Seq Scan on (runs|steps)\b", RegexOptions.Compiled);

    private Task<IReadOnlyList<string>> PlanAsync(string sql, object? parameters) =>
        PlanAsync(factory.Services.GetRequiredService<Database>(), sql, parameters);

    internal static async Task<IReadOnlyList<string>> PlanAsync(Database database, string sql, object? parameters, string settings = "")
    {
        await using var connection = await database.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SET LOCAL enable_seqscan = off;" + settings, transaction: tx);
        var plan = (await connection.QueryAsync<string>("EXPLAIN " + connection.Lists(sql), parameters, tx)).ToList();
        await tx.RollbackAsync();
        return plan;
    }

    internal static void AssertNoFullScan(string what, IReadOnlyList<string> plan) =>
        Assert.False(plan.Any(FullScan.IsMatch), $"{what} scans a whole table:\n  {string.Join("\n  ", plan)}");

    /// Each statement planned on `database` with sequential scans priced out, none walking runs or steps.
    internal static async Task AssertNoFullScansAsync(Database database, IEnumerable<(string What, string Sql, object Parameters)> statements)
    {
        foreach (var (what, sql, parameters) in statements)
            AssertNoFullScan(what, await PlanAsync(database, sql, parameters));
    }

    /// Each statement planned on `database` with sequential scans priced out scans no table sequentially and reads
    /// the index it names.
    internal static async Task AssertUsesIndexesAsync(Database database, IEnumerable<(string What, string Sql, object Parameters, string Index)> statements)
    {
        foreach (var (what, sql, parameters, index) in statements)
        {
            var plan = await PlanAsync(database, sql, parameters);
            Assert.DoesNotContain(plan, p => p.Contains("Seq Scan", StringComparison.Ordinal));
            Assert.True(plan.Any(p => p.Contains($"Index Scan using {index} ", StringComparison.Ordinal) || p.Contains($"Index Only Scan using {index} ", StringComparison.Ordinal)
                || p.Contains($"Bitmap Index Scan on {index}", StringComparison.Ordinal)), $"{what}:\n  {string.Join("\n  ", plan)}");
        }
    }

    /// As on SQLite (`QueryPlanTests`): a table page's first listed errors are read by run_errors' key.
    [Fact]
    public async Task FirstListedErrors_SearchRunErrorsByTheirKey()
    {
        await factory.Seeded;
        await AssertUsesIndexesAsync(factory.Services.GetRequiredService<Database>(),
            [("a page's first listed errors", RunList.SelectFirstListedErrors, QueryPlanTests.FirstListedErrors, "run_errors_tenant_id_run_id_seq_key")]);
    }

    /// As on SQLite (`QueryPlanTests`): an operation's page of runs reads its items by their key and each run through
    /// an index on its id, never a walk of runs.
    [Fact]
    public async Task BulkItemsPage_ReadsItemsByTheirKey_RunsByTenantAndId()
    {
        await factory.Seeded;

        foreach (var (what, sql) in QueryPlanTests.BulkItemsStatements)
        {
            var plan = await PlanAsync(sql, QueryPlanTests.BulkItems);

            var shown = $"{what}:\n  {string.Join("\n  ", plan)}";
            Assert.DoesNotContain(plan, p => p.Contains("Seq Scan", StringComparison.Ordinal));
            Assert.Contains(plan, p => p.Contains("using bulk_items_pkey on bulk_items", StringComparison.Ordinal));
            Assert.True(RunByKey.Matches(string.Join("\n", plan)).Count == 2, shown);
        }
    }

    // A run read through an index on its id (the (tenant, id) key, or ids alone with the tenant checked: either finds
    // the one row), from the item's columns.
    private static readonly Regex RunByKey = new(
        @"Index (Only )?Scan using (runs_tenant_id_id_key|ix_runs_id) on runs \w+.*\n\s*Index Cond: .*\bid = \w+\.(run_id|new_run_id)\b", RegexOptions.Compiled);

    [Fact]
    public async Task Stats_RecentAndWorkerQueries_UseIndexes()
    {
        await factory.Seeded;
        var stats = new { Tenant = "acme", SinceHour = "2026-11-15T00" };
        var claim = new { Tenant = "acme", Workflows = new[] { "channel-digest" }, Worker = "w", LeaseSeconds = 60L, Now = "x", ExpiresAt = "y" };

        foreach (var (statement, i) in PostgresDialect.Instance.Stats(allTenants: false).Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select((s, i) => (s, i)))
            AssertNoFullScan($"stats for a tenant, statement {i}", await PlanAsync(statement, stats));
        foreach (var (statement, i) in PostgresDialect.Instance.Stats(allTenants: true).Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select((s, i) => (s, i)))
            AssertNoFullScan($"stats for all tenants, statement {i}", await PlanAsync(statement, stats));
        AssertNoFullScan("recent for a tenant", await PlanAsync(RunList.SelectRecent, new { Tenant = "acme", Limit = 5 }));
        AssertNoFullScan("recent for all", await PlanAsync(RunList.SelectRecentAll, new { Limit = 5 }));
        AssertNoFullScan("steps of a run", await PlanAsync(RunRows.SelectSteps, new { Tenant = "acme", RunId = "r" }));
        AssertNoFullScan("a run by tenant and id", await PlanAsync(RunRows.SelectRun, new { Tenant = "acme", Id = "r" }));
        AssertNoFullScan("the tenants holding an id", await PlanAsync(RunRows.SelectTenantsOfId, new { Id = "r" }));
        AssertNoFullScan("claim any", await PlanAsync(RunQueue.ClaimSql(PostgresDialect.Instance, tenant: false, workflows: false), claim));
        AssertNoFullScan("claim tenant", await PlanAsync(RunQueue.ClaimSql(PostgresDialect.Instance, tenant: true, workflows: false), claim));
        AssertNoFullScan("claim workflows", await PlanAsync(RunQueue.ClaimSql(PostgresDialect.Instance, tenant: false, workflows: true), claim));
        AssertNoFullScan("claim tenant workflows", await PlanAsync(RunQueue.ClaimSql(PostgresDialect.Instance, tenant: true, workflows: true), claim));
        AssertNoFullScan("expired leases", await PlanAsync(RunQueue.ExpiredLeasesSql(PostgresDialect.Instance), new { Now = "2026-11-21T12:00:00.000Z" }));
        foreach (var (what, sql) in QueryPlanTests.AdminStatements(PostgresDialect.Instance))
            AssertNoFullScan(what, await PlanAsync(sql, QueryPlanTests.Admin));
    }

    // A run's steps found through their key, the run's columns (the planner names the inlined CTE's runs by table).
    private static readonly Regex StepsOfEachRun = new(
        @"Index Scan using \w+ on steps \w+.*\n\s*Index Cond: \(\(tenant_id = \w+\.tenant_id\) AND \(run_id = \w+\.id\)\)", RegexOptions.Compiled);

    [Fact]
    public async Task AdminSlowestSkills_ReadsEachRecentRunsStepsByItsKey()
    {
        await factory.Seeded;

        // With nested loops priced out, a join the planner may order as it likes becomes a hash or merge join (at 1.5
        // million runs it chose one on its own and read all 3.2 million steps); the dialect's subquery can only be read
        // run by run, each run's steps through the key.
        var plan = await PlanAsync(factory.Services.GetRequiredService<Database>(), PostgresDialect.Instance.SlowestSkills, QueryPlanTests.Admin,
            "SET LOCAL enable_nestloop = off;");

        var shown = "\n  " + string.Join("\n  ", plan);
        Assert.False(plan.Any(line => line.Contains("Hash Join", StringComparison.Ordinal) || line.Contains("Merge Join", StringComparison.Ordinal)), shown);
        Assert.Matches(StepsOfEachRun, string.Join("\n", plan));
        AssertNoFullScan("admin slowest skills", plan);
    }

    [Fact]
    public async Task FullScanPattern_RecognisesATableWalk()
    {
        await factory.Seeded;

        var plan = await PlanAsync("SELECT * FROM runs WHERE error_message LIKE '%x%'", null);

        Assert.Contains(plan, FullScan.IsMatch);
    }
}
