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

    private sealed class DemoFactory : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:Demo"] = "true" };
    }
}
