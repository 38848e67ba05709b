using RunMonitor.Web.Data;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Runs;

/// One event of a batch (SPEC "Batch ingest"), checked; `Number` is its line in the request.
public abstract record BatchLine(int Number);
public sealed record BatchCreate(int Number, NewRun Run) : BatchLine(Number);
public sealed record BatchUpdate(int Number, string RunId, RunPatch Patch) : BatchLine(Number);
public sealed record BatchStep(int Number, string RunId, string StepId, StepUpsert Step) : BatchLine(Number);
public sealed record BatchLog(int Number, string RunId, LogLineIn Line) : BatchLine(Number);

/// A batch that was not applied: the line, the field it is about, and why (its outcome maps to the status).
public sealed record BatchRefusal(int Line, string Field, WriteOutcome Outcome, string Reason);

/// Applies a batch in one transaction through the single calls' own paths (`RunService`'s in-transaction writes:
/// the same tenant rules, terminal-status rules, lease renewal and webhooks), all or nothing. Live views hear of each
/// run once, after the commit.
public sealed class BatchIngest(Database database, RunService service, RunWrites writes, TimeProvider time)
{
    private sealed class Refused(BatchRefusal refusal) : Exception(refusal.Reason)
    {
        public BatchRefusal Refusal { get; } = refusal;
    }

    /// `tenant`: the tenant run ids are looked up in (as `RunTenant.Of` for the single calls).
    public async Task<(int Applied, BatchRefusal? Refusal)> ApplyAsync(Caller caller, string? tenant, IReadOnlyList<BatchLine> lines, CancellationToken ct = default)
    {
        IReadOnlyList<object> changed;
        try
        {
            // A batch about a few runs (an engine reporting what it is running) is bounded as one run's write is, and
            // SQLite keeps its journal in memory. One naming many existing runs changes a few pages of each (10,000
            // updates of as many runs: 857 MB more resident at the 1M store, docs/PERFORMANCE.md), so its journal stays on disk.
            Task<IReadOnlyList<object>> Apply(System.Data.Common.DbConnection connection, System.Data.IDbTransaction tx) =>
                ApplyInTransactionAsync(connection, tx, caller, tenant, lines);
            changed = RunsNamed(lines) <= FewRuns ? await database.WriteRunAsync(Apply, ct) : await database.WriteAsync(Apply, ct);
        }
        catch (Refused e)
        {
            return (0, e.Refusal);
        }
        // One notice a run and kind, the last: a batch of 10,000 step reports for one run wakes its viewers once.
        var last = new Dictionary<(Type, string, string), object>();
        foreach (var value in changed)
        {
            var key = value switch
            {
                RunRow r => (typeof(RunRow), r.TenantId, r.Id),
                StepRow s => (typeof(StepRow), s.TenantId, s.RunId),
                LogAppend l => (typeof(LogAppend), l.TenantId, l.RunId),
                _ => (value.GetType(), "", ""),
            };
            last.Remove(key);
            last[key] = value;
        }
        foreach (var value in last.Values) service.Committed(new WriteResult<object>(WriteOutcome.Ok, value));
        return (lines.Count, null);
    }

    /// The most runs a batch may name and still be written as one run's write is (`Database.WriteRunAsync`).
    internal const int FewRuns = 32;

    /// How many runs the lines name, counted up to one more than `FewRuns`: each create one (an id repeated by later
    /// lines is the same run), each other line its run.
    internal static int RunsNamed(IReadOnlyList<BatchLine> lines)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var unnamed = 0;
        foreach (var line in lines)
        {
            var id = line switch
            {
                BatchCreate c => c.Run.Id,
                BatchUpdate u => u.RunId,
                BatchStep s => s.RunId,
                BatchLog l => l.RunId,
                _ => null,
            };
            if (id is null) unnamed++;
            else ids.Add(id);
            if (ids.Count + unnamed > FewRuns) break;
        }
        return ids.Count + unnamed;
    }

    private async Task<IReadOnlyList<object>> ApplyInTransactionAsync(System.Data.Common.DbConnection connection, System.Data.IDbTransaction tx,
        Caller caller, string? tenant, IReadOnlyList<BatchLine> lines)
    {
        var now = time.GetUtcNow();
        var changed = new List<object>(lines.Count);
        // A run's step counts are refreshed once, not once a step line: before a line that reads them (an update, whose
        // answer, events and webhook carry them) and at the end. Keyed by the id as the batch names it.
        var countsDue = new Dictionary<string, RunRow>(StringComparer.Ordinal);
        // Runs read for step and log lines, kept for the next line of the same run. Only runs without a lease: a step
        // or log line changes nothing else of them, while a leased run's lease moves on with each line and is read again.
        var unleased = new Dictionary<string, RunRow>(StringComparer.Ordinal);

        async Task<RunRow> RunForLineAsync(BatchLine line, string id)
        {
            if (unleased.TryGetValue(id, out var known)) return known;
            var run = await RunOf(connection, tx, line, "runId", tenant, id);
            if (run.LeaseOwner is null) unleased[id] = run;
            return run;
        }

        async Task RefreshCountsAsync(string id)
        {
            if (countsDue.Remove(id, out var run)) await RunWrites.RefreshStepCountsAsync(connection, tx, run, DbTime.ToDb(now));
        }

        for (var i = 0; i < lines.Count; i++)
        {
            switch (lines[i])
            {
                case BatchCreate create:
                    if (create.Run.Id is { } newId) unleased.Remove(newId);
                    // A super admin's `?tenant=` is where the batch's runs are made when a line names none, as its
                    // later lines look for them there.
                    var newRun = tenant is not null && create.Run.TenantId is null ? create.Run with { TenantId = tenant } : create.Run;
                    changed.Add(Applied(create, "id", await service.CreateInTransactionAsync(connection, tx, caller, newRun, now)));
                    break;
                case BatchUpdate update:
                    await RefreshCountsAsync(update.RunId);
                    unleased.Remove(update.RunId);
                    var run = await RunOf(connection, tx, update, "id", tenant, update.RunId);
                    changed.Add(Applied(update, "status", await service.UpdateInTransactionAsync(connection, tx, run, update.Patch, now)));
                    break;
                case BatchStep step:
                    var stepRun = await RunForLineAsync(step, step.RunId);
                    changed.Add(Applied(step, "stepId", await service.UpsertStepInTransactionAsync(connection, tx, stepRun, step.StepId, step.Step, now, refreshCounts: false)));
                    countsDue.TryAdd(step.RunId, stepRun);
                    break;
                case BatchLog log:
                    // Consecutive lines of one run are appended together: their order is kept, and the run is read once.
                    var group = new List<LogLineIn> { log.Line };
                    while (i + 1 < lines.Count && lines[i + 1] is BatchLog next && next.RunId == log.RunId)
                    {
                        group.Add(next.Line);
                        i++;
                    }
                    var logRun = await RunForLineAsync(log, log.RunId);
                    changed.Add(Applied(log, "runId", await service.AppendLogsInTransactionAsync(connection, tx, logRun, group, now)));
                    break;
            }
        }
        foreach (var id in countsDue.Keys.ToList()) await RefreshCountsAsync(id);
        return changed;
    }

    private async Task<RunRow> RunOf(System.Data.IDbConnection connection, System.Data.IDbTransaction tx, BatchLine line, string field, string? tenant, string id) =>
        await writes.GetAsync(connection, tx, tenant, id)
        ?? throw new Refused(new BatchRefusal(line.Number, field, WriteOutcome.NotFound, $"no run '{id}' is visible to you"));

    private static object Applied<T>(BatchLine line, string field, WriteResult<T> result) =>
        result.Outcome is WriteOutcome.Ok or WriteOutcome.Created
            ? result.Value!
            : throw new Refused(new BatchRefusal(line.Number, result.Field ?? field, result.Outcome, result.Reason ?? "was refused"));
}
