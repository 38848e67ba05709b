using AngleSharp.Dom;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Admin;

/// Runs on both sides of each period's first hour or day, and of the rolling window of the same length, for the
/// stats' one definition. Clock: 2026-11-21 12:00 UTC (24h from 13:00 yesterday, 7d from Nov 15, 30d from Oct 23).
public class StatsAgreementFixture : RunMonitorFactory, IAsyncLifetime
{
    public StatsAgreementFixture() : this(TestStore.Sqlite) { }

    protected StatsAgreementFixture(TestStore store) : base(store) { }

    public async Task InitializeAsync()
    {
        var client = CreateClient();
        async Task Runs(int count, string status, DateTimeOffset created, string tenant = "acme")
        {
            for (var i = 0; i < count; i++)
                await client.CreateRunAsync(new
                {
                    workflowName = "agree-wf", tenantId = tenant, status, createdAt = created, startedAt = created,
                    completedAt = created.AddSeconds(10),
                });
        }
        DateTimeOffset At(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

        await Runs(3, "completed", At(11, 21, 11));
        await Runs(1, "failed", At(11, 21, 11));
        await Runs(1, "partial", At(11, 21, 11), "beta");
        await Runs(2, "cancelled", At(11, 21, 11), "beta");
        await Runs(1, "dry", At(11, 21, 11));
        await Runs(1, "failed", At(11, 20, 12, 30));     // inside the rolling 24 h only
        await Runs(1, "completed", At(11, 20, 13, 30));
        await Runs(2, "failed", At(11, 14, 18));        // inside the rolling 7 days only
        await Runs(2, "completed", At(11, 16, 9));
        await Runs(1, "cancelled", At(11, 16, 9), "beta");
        await Runs(1, "completed", At(10, 22, 20));      // inside the rolling 30 days only
        await Runs(1, "failed", At(10, 25, 9));
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}

public sealed class PostgresStatsAgreementFixture() : StatsAgreementFixture(TestStore.Postgres);

/// `/api/admin/runs/stats`, `/admin` and the runs page's cards count one window and one failure rate (failed ÷
/// completed, partial and failed) from the same rollups: the same numbers for the same store.
public class StatsAgreementTests(StatsAgreementFixture fixture) : IClassFixture<StatsAgreementFixture>
{
    private static string Card(IDocument doc, string label) =>
        doc.QuerySelectorAll(".stat-card").Single(c => c.QuerySelector(".stat-label").Text() == label).QuerySelector(".stat-value").Text();

    [Theory]
    [InlineData("24h", 9, 4, 1, 1, 2, 0.1667, "16.7%")]
    [InlineData("7d", 13, 6, 2, 1, 3, 0.2222, "22.2%")]
    [InlineData("30d", 16, 6, 5, 1, 3, 0.4167, "41.7%")]
    public async Task Stats_SameStore_TheApiTheCardsAndAdminGiveTheSameNumbers(
        string period, long total, long completed, long failed, long partial, long cancelled, double failureRate, string shown)
    {
        var client = fixture.CreateClient();

        var api = await client.GetJsonAsync("/api/admin/runs/stats?period=" + period);
        var cards = await client.GetDocumentAsync("/ui/runs/stats?period=" + period);

        Assert.Equal(
            (total, completed, failed, partial, cancelled, failureRate),
            (api["total"]!.GetValue<long>(), api["completed"]!.GetValue<long>(), api["failed"]!.GetValue<long>(),
             api["partial"]!.GetValue<long>(), api["cancelled"]!.GetValue<long>(), api["failureRate"]!.GetValue<double>()));
        Assert.Equal(
            ($"{total}", $"{completed}", $"{failed}", shown),
            (Card(cards, $"Total Runs ({period})"), Card(cards, "Successful"), Card(cards, "Failed"), Card(cards, "Failure Rate")));
        if (period == "24h") return; // /admin shows 7 or 30 days
        var admin = await client.GetDocumentAsync("/admin?days=" + period.TrimEnd('d'));
        Assert.Equal(($"{total}", shown), (Card(admin, "Runs"), Card(admin, "Failure rate")));
        // Both pages say which days they count, in the same words.
        Assert.Equal("Every tenant, " + cards.QuerySelector("#run-stats .stats-window").Text(), admin.QuerySelector(".admin-period").Text());
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class StatsAgreementTestsOnPostgres(PostgresStatsAgreementFixture fixture) : StatsAgreementTests(fixture), IClassFixture<PostgresStatsAgreementFixture>;
