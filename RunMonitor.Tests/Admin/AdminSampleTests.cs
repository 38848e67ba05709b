using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Admin;

/// Two timed runs, each with a timed step of `old.skill`: 5 s three hours ago and 7 s two hours ago; then five running
/// runs an hour ago with planned steps and no durations. Clock: the factory's.
public class AdminSampleFixture : RunMonitorFactory, IAsyncLifetime
{
    public AdminSampleFixture() : this(TestStore.Sqlite) { }

    protected AdminSampleFixture(TestStore store) : base(store) { }

    public async Task InitializeAsync()
    {
        var client = CreateClient();
        var now = Clock.GetUtcNow();
        foreach (var (seconds, hoursAgo) in new[] { (5, 3), (7, 2) })
        {
            var timed = now.AddHours(-hoursAgo);
            var run = await client.CreateRunAsync(new
            {
                workflowName = "sample", status = "completed", createdAt = timed, startedAt = timed, completedAt = timed.AddSeconds(seconds),
                steps = new[] { new { stepId = "one", skillId = "old.skill" } },
            });
            var id = run.GetProperty("id").GetString();
            Assert.True((await client.PutAsJsonAsync($"/api/runs/{id}/steps/one", new { status = "completed", durationMs = seconds * 1000 })).IsSuccessStatusCode);
        }
        for (var i = 0; i < 5; i++)
            await client.CreateRunAsync(new
            {
                workflowName = "sample", status = "running", createdAt = now.AddHours(-1),
                steps = new[] { new { stepId = "a", skillId = "new.skill" }, new { stepId = "b", skillId = "new.skill" } },
            });
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}

public sealed class PostgresAdminSampleFixture() : AdminSampleFixture(TestStore.Postgres);

/// The admin page's p95 and slowest skills sample a number of the period's newest runs, timed or not: newer runs
/// without durations take their places in the sample instead of being walked past (a store with 600,000 such runs
/// made the page take 1.1 s; docs/PERFORMANCE.md, "The admin page's samples").
public class AdminSampleTests(AdminSampleFixture fixture) : IClassFixture<AdminSampleFixture>
{
    private AdminStore Store => fixture.Services.GetRequiredService<AdminStore>();
    private DateTimeOffset Since => fixture.Clock.GetUtcNow().AddDays(-1);

    [Fact]
    public async Task P95_NewerUntimedRunsFillTheSample_NoDuration()
    {
        Assert.Null(await Store.P95DurationAsync(Since, runs: 5));
    }

    [Fact]
    public async Task P95_SampleReachesTheTimedRuns_TheirP95()
    {
        // The newest timed run alone, then both (nearest rank: the 2nd of 2); the page's own sample holds all.
        Assert.Equal(7_000, await Store.P95DurationAsync(Since, runs: 6));
        Assert.Equal(7_000, await Store.P95DurationAsync(Since, runs: 7));
        Assert.Equal(7_000, (await Store.StatsAsync(Since)).P95DurationMs);
    }

    [Fact]
    public async Task SlowestSkills_NewerUntimedRunsFillTheSample_NoSkill()
    {
        Assert.Empty(await Store.SlowestSkillsAsync(Since, 10, runs: 5, steps: 100));
    }

    [Fact]
    public async Task SlowestSkills_SampleReachesTheTimedSteps_TheirSkill()
    {
        var newest = Assert.Single(await Store.SlowestSkillsAsync(Since, 10, runs: 6, steps: 100));
        var both = Assert.Single(await Store.SlowestSkillsAsync(Since, 10, runs: 7, steps: 100));

        Assert.Equal(("old.skill", 1, 7_000L), (newest.SkillId, newest.Steps, newest.P95Ms));
        Assert.Equal(("old.skill", 2, 7_000L, 6_000d), (both.SkillId, both.Steps, both.P95Ms, both.AvgMs));
        Assert.Equal(2, Assert.Single(await Store.SlowestSkillsAsync(Since, 10)).Steps);
    }
}

public sealed class AdminSampleTestsOnPostgres(PostgresAdminSampleFixture fixture) : AdminSampleTests(fixture), IClassFixture<PostgresAdminSampleFixture>;
