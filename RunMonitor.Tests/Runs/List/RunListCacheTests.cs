using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Runs;

/// The list is reused between polls only while nothing was committed, and for a second at most.
public class RunListCacheTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    /// A row written behind the writer path's back: the cache cannot know of it.
    private async Task InsertUnannouncedAsync(string id, string workflow)
    {
        var database = factory.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var at = DbTime.ToDb(factory.Clock.GetUtcNow());
        await RunWrites.InsertRunAsync(connection, tx, new RunRow { Id = id, TenantId = "default", WorkflowName = workflow, Status = "queued", CreatedAt = at, UpdatedAt = at });
        await tx.CommitAsync();
    }

    private async Task<List<string>> ListedAsync(string workflow) =>
        (await _client.GetDocumentAsync($"/ui/runs/list?layer_name={workflow}")).QuerySelectorAll("tr[data-run-id]").Select(r => r.GetAttribute("data-run-id")!).ToList();

    [Fact]
    public async Task List_AfterACommit_IsReadAgainAtOnce()
    {
        var first = (await _client.CreateRunAsync(new { workflowName = "cache-commit" })).GetProperty("id").GetString()!;
        var database = factory.Services.GetRequiredService<Database>();
        var read = System.Diagnostics.Stopwatch.StartNew();
        var commitsBefore = database.Commits;
        Assert.Equal([first], await ListedAsync("cache-commit"));
        await InsertUnannouncedAsync("cache-commit-raw", "cache-commit");
        var again = await ListedAsync("cache-commit");
        // Within the second, and with nothing committed meanwhile (the app's background work, such as the deferred
        // name index, commits too), the answer is the one read before: it was reused.
        if (read.ElapsedMilliseconds < 800 && database.Commits == commitsBefore) Assert.Equal([first], again);

        var second = (await _client.CreateRunAsync(new { workflowName = "cache-commit" })).GetProperty("id").GetString()!;

        Assert.Equal(new[] { first, second, "cache-commit-raw" }.Order(), (await ListedAsync("cache-commit")).Order());
    }

    [Fact]
    public async Task List_WithoutCommits_IsNeverOlderThanASecond()
    {
        var first = (await _client.CreateRunAsync(new { workflowName = "cache-age" })).GetProperty("id").GetString()!;
        Assert.Equal([first], await ListedAsync("cache-age"));
        await InsertUnannouncedAsync("cache-age-raw", "cache-age");

        await Task.Delay(1100);

        Assert.Equal(new[] { first, "cache-age-raw" }.Order(), (await ListedAsync("cache-age")).Order());
    }
}

/// The same with the app on PostgreSQL.
public sealed class RunListCacheTestsOnPostgres(PostgresFactory factory) : RunListCacheTests(factory), IClassFixture<PostgresFactory>;
