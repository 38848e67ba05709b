using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// `QueryPlanTests` over a store nothing has analyzed. Only the seed command runs ANALYZE: a store that grew
/// through ingest has no statistics, and SQLite must still choose the indexes for every list, count, stats and
/// worker query from their shape alone.
public sealed class QueryPlanWithoutStatisticsTests(QueryPlanTests.UnanalyzedFactory factory) : IClassFixture<QueryPlanTests.UnanalyzedFactory>
{
    [Theory]
    [MemberData(nameof(RunMonitor.Tests.Runs.RunListQueryTests.ListQueries), MemberType = typeof(RunMonitor.Tests.Runs.RunListQueryTests))]
    public async Task List_EveryFilter_UsesIndexesWithoutStatistics(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        await using (var connection = await database.OpenAsync())
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"));

        await QueryPlanTests.AssertNoFullScansAsync(database, await RunMonitor.Tests.Runs.RunListQueryTests.ListStatementsAsync(database, query));
    }

    [Fact]
    public async Task Stats_RecentAndWorkerQueries_UseIndexesWithoutStatistics()
    {
        await factory.Seeded;
        await QueryPlanTests.AssertStatsRecentAndWorkerPlansAsync(factory.Services.GetRequiredService<Database>());
    }
}
