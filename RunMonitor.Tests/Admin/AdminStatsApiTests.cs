using System.Net;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Admin;

public class AdminStatsApiTests(AdminFixture fixture) : IClassFixture<AdminFixture>
{
    [Fact]
    public async Task Stats_24h_CountsDurationsCostAndQueue()
    {
        var stats = await fixture.CreateClient().GetJsonAsync("/api/admin/runs/stats?period=24h");

        Assert.Equal(23, stats["total"]!.GetValue<long>());
        Assert.Equal(17, stats["completed"]!.GetValue<long>());
        Assert.Equal(2, stats["failed"]!.GetValue<long>());
        Assert.Equal(1, stats["partial"]!.GetValue<long>());
        Assert.Equal(1, stats["cancelled"]!.GetValue<long>());
        Assert.Equal(0, stats["dry"]!.GetValue<long>());
        Assert.Equal(1, stats["queued"]!.GetValue<long>());
        Assert.Equal(1, stats["running"]!.GetValue<long>());
        Assert.Equal(0.1, stats["failureRate"]!.GetValue<double>());          // 2 failed of 20 finished (the cancelled run is not)
        Assert.Equal(10500, stats["avgDurationMs"]!.GetValue<double>());     // 1..20 s
        Assert.Equal(19000, stats["p95DurationMs"]!.GetValue<long>());       // nearest rank: the 19th of 20
        Assert.Equal(5.5, stats["costUsd"]!.GetValue<double>(), 6);          // 3.50 + 0.75 estimated + 1.25 reported
        Assert.Equal(2_001_000, stats["tokensInput"]!.GetValue<long>());
        Assert.Equal(1_101_000, stats["tokensOutput"]!.GetValue<long>());
    }

    [Fact]
    public async Task Stats_7d_IncludesOlderRuns()
    {
        var stats = await fixture.CreateClient().GetJsonAsync("/api/admin/runs/stats?period=7d");

        Assert.Equal(27, stats["total"]!.GetValue<long>());
        Assert.Equal(20, stats["completed"]!.GetValue<long>());
        Assert.Equal(1, stats["dry"]!.GetValue<long>());
    }

    [Fact]
    public async Task Stats_Fields_AreExactlyTheContract()
    {
        var stats = await fixture.CreateClient().GetJsonAsync("/api/admin/runs/stats");

        Assert.Equal(
            ["total", "completed", "failed", "partial", "cancelled", "dry", "queued", "running", "failureRate", "avgDurationMs", "p95DurationMs", "costUsd", "tokensInput", "tokensOutput"],
            stats.AsObject().Select(p => p.Key).ToList());
    }

    [Theory]
    [InlineData("?period=1y", "period")]
    [InlineData("?period=", "period")]
    [InlineData("?period=24h&period=7d", "period")]
    [InlineData("?tenant=acme", "tenant")]
    public async Task Stats_BadParameter_Is400ProblemNamingIt(string query, string parameter)
    {
        var response = await fixture.CreateClient().GetAsync("/api/admin/runs/stats" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(parameter, out _));
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class AdminStatsApiTestsOnPostgres(PostgresAdminFixture fixture) : AdminStatsApiTests(fixture), IClassFixture<PostgresAdminFixture>;
