using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Data;

/// `QueryPlanTests` for PostgreSQL: every list, count, stats and worker query is planned over a seeded,
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

    private async Task<IReadOnlyList<string>> PlanAsync(string sql, object? parameters)
    {
        var database = factory.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: tx);
        var plan = (await connection.QueryAsync<string>("EXPLAIN " + connection.Lists(sql), parameters, tx)).ToList();
        await tx.RollbackAsync();
        return plan;
    }

    private static void AssertNoFullScan(string what, IReadOnlyList<string> plan) =>
        Assert.False(plan.Any(FullScan.IsMatch), $"{what} scans a whole table:\n  {string.Join("\n  ", plan)}");

    [Theory]
    [MemberData(nameof(QueryPlanTests.ListQueries), MemberType = typeof(QueryPlanTests))]
    public async Task List_EveryFilter_UsesIndexesForPageAndTotal(string query)
    {
        await factory.Seeded;
        foreach (var (what, sql, parameters) in await QueryPlanTests.ListStatementsAsync(factory.Services.GetRequiredService<Database>(), query))
            AssertNoFullScan(what, await PlanAsync(sql, parameters));
    }

    [Fact]
    public async Task List_NameSearch_ReadsTheTrigramIndex()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        var (filter, _) = RunFilter.Parse(new Dictionary<string, string?[]> { ["q"] = ["zzzz-no-such-run"] }, new Caller(null, Roles.Admin));
        await using var connection = await database.OpenAsync();
        var list = await RunStore.BuildListQueryAsync(connection, filter!);

        var plan = await PlanAsync(list.CountSql, list.Parameters);

        Assert.Contains(plan, line => line.Contains("trgm", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stats_RecentAndWorkerQueries_UseIndexes()
    {
        await factory.Seeded;
        var stats = new { Tenant = "acme", Since = "2026-11-14T12:30:00.000Z", FirstHourStart = "2026-11-14T13:00:00.000Z", FirstHour = "2026-11-14T13" };
        var claim = new { Tenant = "acme", Workflows = new[] { "channel-digest" }, Worker = "w", LeaseSeconds = 60L, Now = "x", ExpiresAt = "y" };

        foreach (var (statement, i) in RunStore.StatsTenantPostgres.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select((s, i) => (s, i)))
            AssertNoFullScan($"stats for a tenant, statement {i}", await PlanAsync(statement, stats));
        foreach (var (statement, i) in RunStore.StatsAllPostgres.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select((s, i) => (s, i)))
            AssertNoFullScan($"stats for all tenants, statement {i}", await PlanAsync(statement, stats));
        AssertNoFullScan("recent for a tenant", await PlanAsync(RunStore.SelectRecent, new { Tenant = "acme", Limit = 5 }));
        AssertNoFullScan("recent for all", await PlanAsync(RunStore.SelectRecentAll, new { Limit = 5 }));
        AssertNoFullScan("steps of a run", await PlanAsync(RunStore.SelectSteps, new { Tenant = "acme", RunId = "r" }));
        AssertNoFullScan("a run by tenant and id", await PlanAsync(RunStore.SelectRun, new { Tenant = "acme", Id = "r" }));
        AssertNoFullScan("the tenants holding an id", await PlanAsync(RunStore.SelectTenantsOfId, new { Id = "r" }));
        AssertNoFullScan("claim any", await PlanAsync(RunStore.ClaimAnyPostgres, claim));
        AssertNoFullScan("claim tenant", await PlanAsync(RunStore.ClaimTenantPostgres, claim));
        AssertNoFullScan("claim workflows", await PlanAsync(RunStore.ClaimAnyWorkflowsPostgres, claim));
        AssertNoFullScan("claim tenant workflows", await PlanAsync(RunStore.ClaimTenantWorkflowsPostgres, claim));
        AssertNoFullScan("expired leases", await PlanAsync(RunStore.SelectExpiredLeasesPostgres, new { Now = "2026-11-21T12:00:00.000Z" }));
    }

    [Fact]
    public async Task FullScanPattern_RecognisesATableWalk()
    {
        await factory.Seeded;

        var plan = await PlanAsync("SELECT * FROM runs WHERE error_message LIKE '%x%'", null);

        Assert.Contains(plan, FullScan.IsMatch);
    }
}
