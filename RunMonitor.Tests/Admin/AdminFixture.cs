using System.Net.Http.Json;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Admin;

/// One store with known numbers for the admin views (loopback = super admin, no keys). Clock: 2026-11-21 12:00 UTC.
/// Last 24h: 17 completed (1..17 s), 2 failed in wf-fail (18, 19 s), 1 partial (20 s), 1 cancelled, 1 queued
/// (waiting 2 h), 1 running with 20 timed steps; 3 days ago: 3 completed.
public class AdminFixture : RunMonitorFactory, IAsyncLifetime
{
    public AdminFixture() : this(TestStore.Sqlite) { }

    protected AdminFixture(TestStore store) : base(store) { }

    public DateTimeOffset Now => Clock.GetUtcNow();

    public string RunningId { get; private set; } = "";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RunMonitor:Prices:house-model:InputPerMillion"] = "7",
        ["RunMonitor:Prices:house-model:OutputPerMillion"] = "21",
    };

    public async Task InitializeAsync()
    {
        var client = CreateClient();
        var created = Now.AddHours(-1);
        object Finished(string workflow, string status, int seconds, object? usage = null) => new
        {
            workflowName = workflow, tenantId = "acme", status, createdAt = created, startedAt = created,
            completedAt = created.AddSeconds(seconds), usage,
        };
        for (var s = 1; s <= 17; s++)
        {
            object? usage = s switch
            {
                1 => new { model = "gpt-4o", tokensInput = 1_000_000, tokensOutput = 100_000 },
                2 => new { model = "gpt-4o-mini", tokensInput = 1_000_000, tokensOutput = 1_000_000 },
                3 => new { model = "claude-sonnet-4", tokensInput = 1_000, tokensOutput = 1_000, costUsd = 1.25 },
                _ => null,
            };
            await client.CreateRunAsync(Finished("wf-ok", "completed", s, usage));
        }
        await client.CreateRunAsync(Finished("wf-fail", "failed", 18));
        await client.CreateRunAsync(Finished("wf-fail", "failed", 19));
        await client.CreateRunAsync(Finished("wf-ok", "partial", 20));
        await client.CreateRunAsync(new { workflowName = "wf-ok", tenantId = "beta", status = "cancelled", createdAt = created });
        await client.CreateRunAsync(new { workflowName = "wf-ok", tenantId = "beta", createdAt = Now.AddHours(-2) });
        var steps = Enumerable.Range(1, 20).Select(i => new { stepId = $"s{i}", skillId = "slow.skill" }).Append(new { stepId = "f1", skillId = "fast.skill" });
        var running = await client.CreateRunAsync(new { workflowName = "wf-ok", tenantId = "beta", status = "running", createdAt = created, steps });
        RunningId = running.GetProperty("id").GetString()!;
        for (var i = 1; i <= 20; i++)
            Assert.True((await client.PutAsJsonAsync($"/api/runs/{RunningId}/steps/s{i}", new { status = "completed", durationMs = i * 1000 })).IsSuccessStatusCode);
        Assert.True((await client.PutAsJsonAsync($"/api/runs/{RunningId}/steps/f1", new { status = "completed", durationMs = 100 })).IsSuccessStatusCode);
        // A dry run two days back: in the 7-day counts, not the 24-hour ones.
        var dry = Now.AddDays(-2);
        await client.CreateRunAsync(new { workflowName = "wf-old", tenantId = "acme", status = "dry", dryRun = true, createdAt = dry, startedAt = dry, completedAt = dry.AddSeconds(5) });
        var old = Now.AddDays(-3);
        for (var i = 0; i < 3; i++)
            await client.CreateRunAsync(new { workflowName = "wf-old", tenantId = "acme", status = "completed", createdAt = old, startedAt = old, completedAt = old.AddSeconds(100) });
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}

/// The same store on PostgreSQL.
public sealed class PostgresAdminFixture() : AdminFixture(TestStore.Postgres);
