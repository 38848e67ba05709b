using Dapper;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Demo;

/// Fills an empty store with a week of history over three tenants and four workflows.
public sealed class DemoData(Database database, PriceTable prices, TimeProvider time, LogStore logs, ILogger<DemoData> logger)
{
    private const string CountRuns = "SELECT EXISTS (SELECT 1 FROM runs)";

    public async Task SeedIfEmptyAsync(CancellationToken ct = default)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            if (await connection.ExecuteScalarAsync<bool>(CountRuns)) return;
        }
        var random = new Random(20261121);
        var factory = new DemoRunFactory(random, prices);
        var now = time.GetUtcNow();
        var runs = new List<DemoRun>();
        var retried = new HashSet<string>(StringComparer.Ordinal);
        for (var day = 7; day >= 0; day--)
        {
            // Busier on weekdays (80-120 runs a day over the three tenants) than at weekends (25-45), quieter at night.
            var weekend = now.Date.AddDays(-day).DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
            var perDay = weekend ? random.Next(25, 46) : random.Next(80, 121);
            for (var i = 0; i < perDay; i++)
            {
                var hour = random.NextDouble() < 0.75 ? random.Next(7, 20) : random.Next(0, 24);
                var createdAt = now.Date.AddDays(-day).AddHours(hour).AddMinutes(random.Next(60)).AddSeconds(random.Next(60));
                var created = new DateTimeOffset(createdAt, TimeSpan.Zero);
                if (created > now.AddMinutes(-10)) continue;
                // Now and then someone retries the latest failure that had ended by then (once), whole or from its failed step.
                var run = random.NextDouble() < 0.04 && LatestFailure(runs, retried, created) is { } failed
                    ? factory.Retried(failed, RunService.NewId(created), created, RetryOutcome(factory.PickOutcome()), fromFailedStep: random.Next(2) == 0)
                    : factory.Finished(RunService.NewId(created), factory.PickTenant(), factory.PickWorkflow(), created, factory.PickOutcome());
                if (run.Run.RetryOf is { } of) retried.Add(of);
                runs.Add(run);
            }
        }
        await WriteAsync(database, runs, ct);
        // The latest runs tell their story in their logs too (every run would only make the seed slower), and every
        // run in its activity, as a run the demo worker executes does (an empty activity looked like a broken page).
        await database.WriteAsync(async (connection, tx) =>
        {
            foreach (var run in runs.TakeLast(200)) await logs.AppendAsync(connection, tx, run.Run, DemoLogs.ForFinished(run, random), now);
            foreach (var run in runs)
            {
                foreach (var entry in Activity(run)) await ActivityLog.RecordAsync(connection, tx, entry);
                if (run.Run.RetryOf is { } old)
                    await ActivityLog.RecordAsync(connection, tx, ActivityLog.Entry(run.Run.TenantId, old, DbTime.Parse(run.Run.CreatedAt),
                        ActivityLog.SystemActor, ActivityActions.Retried, ActivityLog.RetriedAs(run.Run.Id, run.RetryHow!)));
            }
            return 0;
        }, ct);
        logger.LogInformation("Demo: seeded {Count} runs over the last week", runs.Count);
    }

    private static DemoRun? LatestFailure(List<DemoRun> runs, HashSet<string> retried, DateTimeOffset before) => runs
        .Where(r => r.Run.Status == RunStatus.Failed && !retried.Contains(r.Run.Id) && DbTime.Parse(r.Run.CompletedAt!) < before)
        .MaxBy(r => DbTime.Parse(r.Run.CompletedAt!));

    // A retry is no dry run (its original was none), and the demo worker runs it to the end as it does a claimed run.
    private static string RetryOutcome(string outcome) => outcome is RunStatus.Dry or RunStatus.Cancelled ? RunStatus.Completed : outcome;

    /// A seeded run's history as the live demo records it: created (a retry: what it retries), claimed and finished by
    /// the worker.
    private static IEnumerable<ActivityRow> Activity(DemoRun demo)
    {
        var run = demo.Run;
        var created = DbTime.Parse(run.CreatedAt);
        yield return ActivityLog.Entry(run.TenantId, run.Id, created, ActivityLog.SystemActor,
            run.RetryOf is null ? ActivityActions.Created : ActivityActions.RetryOf, run.RetryOf is null ? null : ActivityLog.RetryOf(run.RetryOf, demo.RetryHow!));
        if (DbTime.FromDb(run.StartedAt) is not { } started) yield break;
        yield return ActivityLog.Entry(run.TenantId, run.Id, started, DemoWorker.WorkerName, ActivityActions.Claimed,
            ActivityLog.Leased(DemoWorker.LeaseSeconds, ActivityLog.SystemActor));
        if (DbTime.FromDb(run.CompletedAt) is { } completed
            && ActivityLog.ForTransition(run with { Status = RunStatus.Running }, run) is { } end)
            yield return ActivityLog.Entry(run.TenantId, run.Id, completed, DemoWorker.WorkerName, end.Action, end.Detail);
    }

    public static Task WriteAsync(Database database, IReadOnlyList<DemoRun> runs, CancellationToken ct = default) =>
        database.WriteAsync(async (connection, tx) =>
        {
            foreach (var run in runs)
            {
                await RunWrites.InsertRunAsync(connection, tx, run.Run);
                await RunWrites.WriteStepsAsync(connection, tx, run.Steps);
                if (run.Errors.Count > 0) await RunWrites.ReplaceErrorsAsync(connection, tx, run.Run, run.Errors);
            }
            foreach (var group in runs.GroupBy(r => (r.Run.TenantId, r.Run.WorkflowName)))
                await RunWrites.TouchWorkflowAsync(connection, tx, group.Key.TenantId, group.Key.WorkflowName, group.Max(r => r.Run.UpdatedAt)!);
            return runs.Count;
        }, ct);
}
