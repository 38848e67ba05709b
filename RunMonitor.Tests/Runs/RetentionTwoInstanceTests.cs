using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Runs;

/// Two instances on one PostgreSQL store whose retention passes meet (both start their hourly pass at once, as the
/// audit saw): one of them purges, each expired run is deleted and handed to the purge listeners once, and one pass is
/// recorded with what its deletes removed.
public sealed class RetentionTwoInstanceTests : TwoInstances<RetentionTwoInstanceTests.Instance>
{
    private const int Expired = 7;

    public sealed class Instance(string database) : RunMonitorFactory(database)
    {
        public GatedListener Listener { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(s =>
            {
                s.AddSingleton<IRunPurgeListener>(Listener);
                // The test starts every pass itself: the hourly worker (on a real timer) would start one of its own.
                s.Remove(s.Single(d => d.ImplementationType == typeof(RetentionWorker)));
            });
        }
    }

    protected override Instance Start(string database) => new(database);

    /// Records the runs it is handed; with a gate, its first batch waits inside the delete's transaction until the gate opens.
    public sealed class GatedListener : IRunPurgeListener
    {
        private readonly List<string> _before = [];
        private readonly List<string> _after = [];

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource? Gate { get; set; }

        /// Thrown inside the delete's transaction when set: a pass that meets an error.
        public Exception? Throw { get; set; }

        public IReadOnlyList<string> Before { get { lock (_before) return [.. _before]; } }
        public IReadOnlyList<string> After { get { lock (_after) return [.. _after]; } }

        public async Task BeforeDeleteAsync(DbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs, CancellationToken ct)
        {
            if (Throw is { } e) throw e;
            lock (_before) _before.AddRange(runs.Select(r => r.Id));
            Reached.TrySetResult();
            if (Gate is { } gate) await gate.Task;
        }

        public Task AfterDeleteAsync(IReadOnlyList<DeletedRun> runs, CancellationToken ct)
        {
            lock (_after) _after.AddRange(runs.Select(r => r.Id));
            return Task.CompletedTask;
        }
    }

    private async Task<List<string>> CreateExpiredAsync()
    {
        var client = A.CreateClient();
        var ids = new List<string>();
        for (var i = 0; i < Expired; i++)
        {
            var run = await client.CreateRunAsync(new { workflowName = "expiring", status = "completed", steps = new[] { new { stepId = "s1", skillId = "k" } } });
            ids.Add(run.GetProperty("id").GetString()!);
        }
        A.Clock.Advance(TimeSpan.FromDays(31));
        B.Clock.Advance(TimeSpan.FromDays(31));
        return ids;
    }

    private async Task<(List<long> Recorded, long RunsLeft)> StoredAsync()
    {
        await using var connection = await A.Services.GetRequiredService<Database>().OpenAsync();
        var recorded = (await connection.QueryAsync<long>("SELECT runs_deleted FROM retention_purges ORDER BY id")).ToList();
        return (recorded, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs"));
    }

    /// A is inside its first batch (the runs selected, not yet deleted) when B's pass starts and ends: B records
    /// nothing and hands no run to its listeners.
    [Fact]
    public async Task Purge_BothAtOnce_EachRunDeletedAndHandedOnOnce_OnePassRecorded()
    {
        var ids = await CreateExpiredAsync();
        A.Listener.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = A.Services.GetRequiredService<RunPurger>().PurgeAsync();
        await A.Listener.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var second = await B.Services.GetRequiredService<RunPurger>().PurgeAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var whileRunning = (await B.CreateClient().GetDocumentAsync("/admin")).QuerySelector("#retention .retention-last").Text().Squash();
        A.Listener.Gate.SetResult();
        var firstRecord = await first.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(second);
        Assert.Matches(@"^Running since \S.*: removed 0 runs and 0 steps completed before .+ so far\.$", whileRunning);
        Assert.Equal(Expired, firstRecord!.RunsDeleted);
        Assert.Equal(Expired, firstRecord.StepsDeleted);
        Assert.Equal(ids.Order(), A.Listener.Before.Concat(B.Listener.Before).Order());
        Assert.Equal(ids.Order(), A.Listener.After.Concat(B.Listener.After).Order());
        var stored = await StoredAsync();
        Assert.Equal([Expired], stored.Recorded);
        Assert.Equal(0, stored.RunsLeft);
    }

    /// A pass whose turn has come (an hour after the one still running: a long purge, or clocks apart) while the other
    /// is inside a batch passes over that batch's runs (SKIP LOCKED) instead of selecting them too: no run is handed to
    /// the listeners twice, and neither pass waits for the other.
    [Fact]
    public async Task Purge_AnHourOnWhileTheOtherIsInsideABatch_PassesOverItsRuns()
    {
        var ids = await CreateExpiredAsync();
        A.Listener.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = A.Services.GetRequiredService<RunPurger>().PurgeAsync();
        await A.Listener.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        B.Clock.Advance(RetentionWorker.Interval);

        var second = B.Services.GetRequiredService<RunPurger>().PurgeAsync();
        // Selected without SKIP LOCKED, B's batch held A's runs and its delete waited for A's: give it time to show that.
        await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(5)));
        var secondDoneFirst = second.IsCompleted;
        A.Listener.Gate.SetResult();
        var firstRecord = await first.WaitAsync(TimeSpan.FromSeconds(30));
        var secondRecord = await second.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(secondDoneFirst, "B's pass waited for A's batch");
        Assert.Equal(0, secondRecord!.RunsDeleted);
        Assert.Equal(Expired, firstRecord!.RunsDeleted);
        Assert.Equal(ids.Order(), A.Listener.Before.Concat(B.Listener.Before).Order());
        Assert.Equal([Expired, 0], (await StoredAsync()).Recorded);
    }

    /// A pass that failed does not hold the others back for the rest of its hour: the next instance's pass purges.
    [Fact]
    public async Task Purge_AfterAnotherInstancesPassFailed_TheNextInstancePurgesWithinTheHour()
    {
        var ids = await CreateExpiredAsync();
        A.Listener.Throw = new InvalidOperationException("the artifact volume is read-only");
        await Assert.ThrowsAsync<InvalidOperationException>(() => A.Services.GetRequiredService<RunPurger>().PurgeAsync());
        B.Clock.Advance(TimeSpan.FromMinutes(5));

        var next = await B.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(Expired, next!.RunsDeleted);
        Assert.Equal(ids.Order(), B.Listener.After.Order());
        Assert.Equal([0, Expired], (await StoredAsync()).Recorded);
    }

    /// A pass that has not moved for `RunPurger.StallAfter` (its instance gone mid-pass) no longer holds the others
    /// back; one that is still moving does. Here A sits inside its first batch: B waits while A's pass is recent, and
    /// takes its turn once it has stalled (passing over the runs A's batch holds).
    [Fact]
    public async Task Purge_AnotherInstancesPassStalled_TheNextInstanceTakesItsTurn()
    {
        await CreateExpiredAsync();
        A.Listener.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = A.Services.GetRequiredService<RunPurger>().PurgeAsync();
        await A.Listener.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var purger = B.Services.GetRequiredService<RunPurger>();

        B.Clock.Advance(RunPurger.StallAfter - TimeSpan.FromMinutes(1));
        var whileMoving = await purger.PurgeAsync().WaitAsync(TimeSpan.FromSeconds(30));
        B.Clock.Advance(TimeSpan.FromMinutes(2));
        var stalledShown = (await B.CreateClient().GetDocumentAsync("/admin")).QuerySelector("#retention .retention-last")!;
        var afterStall = await purger.PurgeAsync().WaitAsync(TimeSpan.FromSeconds(30));
        A.Listener.Gate.SetResult();
        var firstRecord = await first.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(whileMoving);
        Assert.Contains("retention-failed", stalledShown.ClassList);
        Assert.Contains("(its instance went away mid-pass)", stalledShown.Text().Squash());
        Assert.Equal(0, afterStall!.RunsDeleted);
        Assert.Equal(Expired, firstRecord!.RunsDeleted);
        Assert.Equal([Expired, 0], (await StoredAsync()).Recorded);
    }

    /// A pass within the hour of another instance's records nothing (no row of zeros), and both admin pages show the
    /// pass that ran; an hour on, the next pass is B's.
    [Fact]
    public async Task Purge_WithinTheHourOfAnotherInstancesPass_RecordsNothing_AnHourOn_Purges()
    {
        await CreateExpiredAsync();
        var first = await A.Services.GetRequiredService<RunPurger>().PurgeAsync();
        B.Clock.Advance(RetentionWorker.Interval / 2);

        var again = await B.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(Expired, first!.RunsDeleted);
        Assert.Null(again);
        Assert.Equal([Expired], (await StoredAsync()).Recorded);
        foreach (var instance in new[] { A, B })
        {
            var shown = (await instance.CreateClient().GetDocumentAsync("/admin")).QuerySelector("#retention .retention-last").Text().Squash();
            Assert.Contains($"removed {Expired} runs and {Expired} steps", shown);
        }

        B.Clock.Advance(RetentionWorker.Interval / 2);
        var hourOn = await B.Services.GetRequiredService<RunPurger>().PurgeAsync();

        Assert.Equal(0, hourOn!.RunsDeleted);
        Assert.Equal([Expired, 0], (await StoredAsync()).Recorded);
    }
}
