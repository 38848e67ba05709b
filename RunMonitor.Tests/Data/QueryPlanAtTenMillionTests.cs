using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Runs;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Data;

/// `QueryPlanTests` with statistics that say ten million runs (issue 21's growth table): a statement whose plan
/// suits a small store but walks a whole table at 10M fails here, not first in a benchmark.
public sealed class QueryPlanAtTenMillionTests(QueryPlanTests.TenMillionFactory factory) : IClassFixture<QueryPlanTests.TenMillionFactory>
{
    [Fact]
    public async Task Statistics_SayTenMillionRuns()
    {
        await factory.Seeded;
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();

        var stat = await connection.ExecuteScalarAsync<string>("SELECT stat FROM sqlite_stat1 WHERE tbl = 'runs' AND idx = 'ix_runs_created'");

        Assert.StartsWith("10000000 ", stat);
    }

    [Theory]
    [MemberData(nameof(RunListQueryTests.ListQueries), MemberType = typeof(RunListQueryTests))]
    public async Task List_EveryFilter_UsesIndexes(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        await QueryPlanTests.AssertNoFullScansAsync(database, await RunListQueryTests.ListStatementsAsync(database, query));
    }

    [Theory]
    [MemberData(nameof(RunListQueryTests.CursorQueries), MemberType = typeof(RunListQueryTests))]
    public async Task List_CursorPage_UsesIndexes(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();

        await QueryPlanTests.AssertNoFullScansAsync(database, await RunListQueryTests.CursorStatementsAsync(database, query));
    }

    [Fact]
    public async Task Stats_RecentWorkerAndAdminQueries_UseIndexes()
    {
        await factory.Seeded;
        await QueryPlanTests.AssertStatsRecentAndWorkerPlansAsync(factory.Services.GetRequiredService<Database>());
    }

    [Fact]
    public async Task AdminSlowestSkills_ReadsRunsNewestFirstThenTheirSteps()
    {
        await factory.Seeded;

        var plan = (await QueryPlanTests.PlanAsync(factory.Services.GetRequiredService<Database>(), SqliteDialect.Instance.SlowestSkills, QueryPlanTests.Admin)).ToList();

        // Under these statistics SQLite chose to walk every step and look up its run (85 s at the 10M bench store);
        // the runs by time, then each one's steps by key, stops at the sample.
        var runs = plan.FindIndex(line => line.StartsWith("SEARCH runs USING INDEX ix_runs_created", StringComparison.Ordinal));
        var steps = plan.FindIndex(line => line.StartsWith("SEARCH steps USING INDEX", StringComparison.Ordinal));
        Assert.True(runs >= 0 && steps > runs, string.Join("\n", plan));
    }
}
