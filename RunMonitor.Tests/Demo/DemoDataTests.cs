using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Demo;

/// `--demo` fills an empty store with a week of history, retries among it: each retry, moved into its failed run's
/// tenant, takes its steps along (they are keyed by tenant too).
public sealed class DemoDataTests : IDisposable
{
    private readonly DemoFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Demo_EmptyStore_SeedsHistoryWithRetriesWhoseStepsAreInTheirTenant()
    {
        var client = _factory.CreateClient();

        var retries = new List<(string Id, string Tenant)>();
        for (var offset = 0; retries.Count < 3 && offset < 2000; offset += 100)
        {
            var page = (await client.GetJsonAsync($"/api/runs?limit=100&offset={offset}"))["items"]!.AsArray();
            if (page.Count == 0) break;
            retries.AddRange(page.Where(r => r!["retryOf"] is not null).Select(r => (r!["id"]!.GetValue<string>(), r["tenantId"]!.GetValue<string>())));
        }

        Assert.NotEmpty(retries);
        foreach (var (id, tenant) in retries)
            Assert.NotEmpty((await client.GetJsonAsync($"/api/runs/{id}/steps?tenant={tenant}")).AsArray());
    }

    [Fact]
    public async Task Demo_SeededWeek_WeekdaysBusierThanTheWeekend()
    {
        var client = _factory.CreateClient();
        var today = _factory.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime.Date;
        var perDay = new Dictionary<DateTime, int>();
        for (var offset = 0; offset < 5000; offset += 100)
        {
            var page = (await client.GetJsonAsync($"/api/runs?limit=100&offset={offset}"))["items"]!.AsArray();
            if (page.Count == 0) break;
            foreach (var run in page)
            {
                var day = DateTimeOffset.Parse(run!["createdAt"]!.GetValue<string>()).UtcDateTime.Date;
                perDay[day] = perDay.GetValueOrDefault(day) + 1;
            }
        }

        // The seven whole days before today: five weekdays and a weekend.
        var week = Enumerable.Range(1, 7).Select(d => today.AddDays(-d)).ToList();
        var weekend = week.Where(d => d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday).Select(d => perDay.GetValueOrDefault(d)).ToList();
        var weekdays = week.Where(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).Select(d => perDay.GetValueOrDefault(d)).ToList();
        Assert.Equal(2, weekend.Count);
        Assert.True(weekdays.Min() > weekend.Max(), $"weekdays {string.Join(", ", weekdays)}; weekend {string.Join(", ", weekend)}");
    }

    [Fact]
    public async Task Demo_SeededRuns_TellTheirStoryInTheirActivity()
    {
        var client = _factory.CreateClient();
        var finished = (await client.GetJsonAsync("/api/runs?status=failed&limit=1"))["items"]!.AsArray().Single()!;
        var retry = (await client.GetJsonAsync("/api/runs?limit=100"))["items"]!.AsArray().First(r => r!["retryOf"] is not null)!;
        async Task<string[]> ActionsAsync(string id, string tenant) =>
            (await client.GetJsonAsync($"/api/runs/{id}/activity?tenant={tenant}")).AsArray().Select(a => a!["action"]!.GetValue<string>()).ToArray();

        Assert.Equal(["created", "claimed", "failed"], await ActionsAsync(finished["id"]!.GetValue<string>(), finished["tenantId"]!.GetValue<string>()));
        Assert.Equal("retry-of", (await ActionsAsync(retry["id"]!.GetValue<string>(), retry["tenantId"]!.GetValue<string>()))[0]);
        Assert.Contains("retried", await ActionsAsync(retry["retryOf"]!.GetValue<string>(), retry["tenantId"]!.GetValue<string>()));
    }

    /// The demo watches itself with a rule of every kind, shown by `/api/alerts` and `/admin`.
    [Fact]
    public async Task Demo_WithoutAlertRules_WatchesWithItsOwn()
    {
        var client = _factory.CreateClient();

        var rules = (await client.GetJsonAsync("/api/alerts"))["rules"]!.AsArray();

        Assert.Equal(["acme-daily-spend", "failing-runs", "runs-stuck", "queue-backlog", "nightly-silent"], rules.Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal(["costPerDay", "failureRate", "stuckRuns", "queueDepth", "silence"], rules.Select(r => r!["kind"]!.GetValue<string>()));
        var admin = await client.GetDocumentAsync("/admin");
        Assert.Equal(5, admin.QuerySelectorAll("#alert-rules tbody tr").Length);
    }

    /// Rules of the configuration's own replace the demo's.
    [Fact]
    public async Task Demo_WithAlertRulesConfigured_KeepsThoseAlone()
    {
        using var factory = new DemoFactory(new()
        {
            ["RunMonitor:Alerts:0:Name"] = "mine", ["RunMonitor:Alerts:0:Kind"] = "queueDepth", ["RunMonitor:Alerts:0:Threshold"] = "3",
        });

        var rules = (await factory.CreateClient().GetJsonAsync("/api/alerts"))["rules"]!.AsArray();

        Assert.Equal(["mine"], rules.Select(r => r!["name"]!.GetValue<string>()));
    }

    private sealed class DemoFactory(Dictionary<string, string?>? more = null) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings =>
            new Dictionary<string, string?>(more ?? []) { ["RunMonitor:Demo"] = "true" };
    }
}
