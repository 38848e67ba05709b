using System.Data;
using Dapper;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Web.Runs;

public sealed record ClaimRequest(string Worker, IReadOnlyList<string> Workflows, int LeaseSeconds)
{
    public const int DefaultLeaseSeconds = 60;
    public const int MinLeaseSeconds = 5;
    public const int MaxLeaseSeconds = 3600;
}

/// A claimed run with what a worker needs to resume it: its errors list and its steps in plan order.
public sealed record ClaimedRun(RunRow Run, IReadOnlyList<RunErrorRow> Errors, IReadOnlyList<StepRow> Steps);

/// `{}` retries the whole run; `FromFailedStep` or `FromStep` keep the steps before that one. `PayloadEdited`: the new
/// run gets `TriggerPayload` (raw JSON; null for none) instead of the old one's. `RunAgain`: a finished run of any
/// outcome, a completed one too, starts again (issue 19's "Run again").
public sealed record RetryRequest(bool FromFailedStep = false, string? FromStep = null)
{
    public bool IsPartial => FromFailedStep || FromStep is not null;
    public bool PayloadEdited { get; init; }
    public string? TriggerPayload { get; init; }
    public bool RunAgain { get; init; }
}

/// The queue: claim and lease, cancel, retry, and the expiry of abandoned leases; its rules and its statements, each
/// guarded by the state it expects and run inside `Database.WriteAsync`.
public sealed class RunQueue(Database database, RunService service, RunWrites writes, ISqlDialect dialect, TimeProvider time,
    IRunEvents events, WebhookOutbox webhooks, WorkerBook workers)
{
    public const string LeaseExpiredMessage = "worker lease expired";
    public static readonly IReadOnlyList<string> Retryable = [RunStatus.Failed, RunStatus.Partial, RunStatus.Cancelled];

    public static bool CanOperate(Caller caller) => caller.Role is Roles.Operator or Roles.Admin;

    public static bool CanRetry(RunRow run) => Retryable.Contains(run.Status);

    public static bool CanCancel(RunRow run) => RunStatus.IsActive(run.Status);

    // One statement picks and takes the oldest queued run, so two workers can never both get it. On
    // PostgreSQL the pick skips rows another claim has locked: concurrent claims through any instance take
    // different runs at once instead of queueing on the oldest one (and never the same one).
    private const string ClaimTemplate = """
        UPDATE runs SET status = 'running', started_at = COALESCE(started_at, @Now), lease_owner = @Worker,
            lease_expires_at = @ExpiresAt, lease_seconds = @LeaseSeconds, cancel_requested = 0, updated_at = @Now
        WHERE pk = (SELECT pk FROM runs WHERE status = 'queued' {0} {1} ORDER BY created_at, pk LIMIT 1{2})
          AND status = 'queued'
        RETURNING tenant_id AS TenantId, id AS Id
        """;

    /// The claim for a tenant (or any) and a workflow list (or any), in the dialect's spelling.
    public static string ClaimSql(ISqlDialect dialect, bool tenant, bool workflows) => string.Format(System.Globalization.CultureInfo.InvariantCulture,
        ClaimTemplate, tenant ? "AND tenant_id = @Tenant" : "", workflows ? dialect.Lists("AND workflow_name IN @Workflows") : "", dialect.SkipLocked);

    private readonly string[] _claims = [ClaimSql(dialect, false, false), ClaimSql(dialect, false, true), ClaimSql(dialect, true, false), ClaimSql(dialect, true, true)];

    /// The tenant and id of the run now leased to `worker`, or null when nothing of those workflows waits.
    private Task<ClaimedKey?> ClaimNextAsync(IDbConnection connection, IDbTransaction tx, string? tenant,
        IReadOnlyList<string> workflows, string worker, int leaseSeconds, DateTimeOffset now) =>
        connection.QuerySingleOrDefaultAsync<ClaimedKey?>(_claims[(tenant is null ? 0 : 2) + (workflows.Count == 0 ? 0 : 1)], new
        {
            Tenant = tenant, Workflows = workflows.ToArray(), Worker = worker, LeaseSeconds = leaseSeconds,
            Now = DbTime.ToDb(now), ExpiresAt = DbTime.ToDb(now.AddSeconds(leaseSeconds)),
        }, tx);

    /// Ok with no value when nothing of those workflows is queued for the caller's tenant.
    public async Task<WriteResult<ClaimedRun>> ClaimAsync(Caller caller, ClaimRequest request, CancellationToken ct = default)
    {
        if (caller.Role is not (Roles.Ingest or Roles.Admin))
            return WriteResult<ClaimedRun>.Forbidden("claiming runs needs an ingest or admin key");
        var now = time.GetUtcNow();
        var claimed = await database.WriteRunAsync(async (connection, tx) =>
        {
            var key = await ClaimNextAsync(connection, tx, caller.TenantId, request.Workflows, request.Worker, request.LeaseSeconds, now);
            if (key is null)
            {
                await workers.PolledAsync(connection, tx, caller.TenantId, request.Worker, now);
                return null;
            }
            await workers.ClaimedAsync(connection, tx, key.TenantId, request.Worker, now);
            var run = (await writes.GetAsync(connection, tx, key.TenantId, key.Id))!;
            await ActivityLog.RecordAsync(connection, tx, run, now, request.Worker, ActivityActions.Claimed,
                ActivityLog.Leased(request.LeaseSeconds, caller.Actor));
            return new ClaimedRun(run, await RunRows.GetErrorsAsync(connection, tx, run), await RunRows.GetStepsAsync(connection, tx, run));
        }, ct);
        if (claimed is not null) events.Publish(new RunChange(claimed.Run.Id, claimed.Run.TenantId, claimed.Run.Status));
        return new WriteResult<ClaimedRun>(WriteOutcome.Ok, claimed);
    }

    private const string CancelQueued = """
        UPDATE runs SET status = 'cancelled', cancel_requested = 1, completed_at = @Now, updated_at = @Now
        WHERE tenant_id = @TenantId AND id = @Id AND status = 'queued'
        """;

    /// True when the run was still queued and is now cancelled.
    private static async Task<bool> CancelQueuedAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset now) =>
        await connection.ExecuteAsync(CancelQueued, new { run.TenantId, run.Id, Now = DbTime.ToDb(now) }, tx) == 1;

    private const string RequestCancel = """
        UPDATE runs SET cancel_requested = 1, updated_at = @Now
        WHERE tenant_id = @TenantId AND id = @Id AND status = 'running'
        """;

    /// True when the run is running and its worker will now be told to stop.
    private static async Task<bool> RequestCancelAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset now) =>
        await connection.ExecuteAsync(RequestCancel, new { run.TenantId, run.Id, Now = DbTime.ToDb(now) }, tx) == 1;

    /// A queued run is cancelled at once; a running one is asked to stop (its worker, or the lease
    /// expiry, ends it). Ok with the run as it now is; a finished run is a conflict.
    public async Task<WriteResult<RunRow>> CancelAsync(Caller caller, string? tenant, string id, CancellationToken ct = default)
    {
        if (!CanOperate(caller)) return WriteResult<RunRow>.Forbidden("cancelling runs needs an operator or admin key");
        var result = await database.WriteRunAsync(async (connection, tx) =>
        {
            var run = await writes.GetAsync(connection, tx, tenant, id);
            if (run is null) return WriteResult<RunRow>.NotFound();
            return await CancelInTransactionAsync(connection, tx, run, caller.Actor, time.GetUtcNow());
        }, ct);
        return service.Committed(result);
    }

    /// The cancel rule on a run read (and locked) in the caller's transaction; `detail` adds to its activity (a bulk
    /// operation's id). The caller publishes the change after its commit.
    internal async Task<WriteResult<RunRow>> CancelInTransactionAsync(IDbConnection connection, IDbTransaction tx, RunRow run, string actor,
        DateTimeOffset now, string? detail = null)
    {
        if (await CancelQueuedAsync(connection, tx, run, now))
        {
            var cancelled = (await writes.GetAsync(connection, tx, run.TenantId, run.Id))!;
            await webhooks.EnqueueAsync(connection, tx, cancelled, now);
            await ActivityLog.RecordAsync(connection, tx, run, now, actor, ActivityActions.Cancelled, Join("cancelled while queued", detail));
            return new WriteResult<RunRow>(WriteOutcome.Ok, cancelled);
        }
        // Asked before: the answer is the same, and the activity records the one request that changed something.
        if (run.Status == RunStatus.Running && run.IsCancelRequested) return new WriteResult<RunRow>(WriteOutcome.Ok, run);
        if (await RequestCancelAsync(connection, tx, run, now))
        {
            await ActivityLog.RecordAsync(connection, tx, run, now, actor, ActivityActions.CancelRequested,
                Join(run.LeaseOwner is { } worker ? $"worker {worker} is asked to stop" : "its worker is asked to stop", detail));
            return new WriteResult<RunRow>(WriteOutcome.Ok, (await writes.GetAsync(connection, tx, run.TenantId, run.Id))!);
        }
        return WriteResult<RunRow>.Conflict($"run is {run.Status}; only a queued or running run can be cancelled");
    }

    private static string Join(string text, string? more) => more is null ? text : text + "; " + more;

    /// A new queued run of the same workflow, name, tenant, payload, layer hash and planned steps,
    /// linked by `retryOf`. A partial retry carries the steps before the chosen one as completed
    /// cache hits with their outputs, so the worker resumes there.
    public async Task<WriteResult<RunRow>> RetryAsync(Caller caller, string? tenant, string id, RetryRequest request, CancellationToken ct = default)
    {
        if (!CanOperate(caller)) return WriteResult<RunRow>.Forbidden("retrying runs needs an operator or admin key");
        var result = await database.WriteRunAsync(async (connection, tx) =>
        {
            var old = await writes.GetAsync(connection, tx, tenant, id);
            if (old is null) return WriteResult<RunRow>.NotFound();
            return await RetryInTransactionAsync(connection, tx, old, request, caller.Actor, time.GetUtcNow());
        }, ct);
        return service.Committed(result);
    }

    /// The retry rule on a run read (and locked) in the caller's transaction: Created with the new run. `detail` adds to
    /// both runs' activity (a bulk operation's id). The caller publishes the change after its commit.
    internal async Task<WriteResult<RunRow>> RetryInTransactionAsync(IDbConnection connection, IDbTransaction tx, RunRow old, RetryRequest request,
        string actor, DateTimeOffset now, string? detail = null)
    {
        var id = old.Id;
        if (request.RunAgain && !RunStatus.IsTerminal(old.Status))
            return WriteResult<RunRow>.Conflict($"run is {old.Status}; only a finished run can be run again");
        if (!request.RunAgain && !CanRetry(old))
            return WriteResult<RunRow>.Conflict($"run is {old.Status}; only a failed, partial or cancelled run can be retried");
        var steps = await RunRows.GetStepsAsync(connection, tx, old);
        var resumeAt = 0;
        if (request.FromStep is { } fromStep)
        {
            resumeAt = steps.ToList().FindIndex(s => s.StepId == fromStep);
            if (resumeAt < 0)
                return WriteResult<RunRow>.Invalid("fromStep", steps.Count == 0
                    ? $"names no step of run '{id}': it has no steps"
                    : $"names no step of run '{id}'; its steps are {string.Join(", ", steps.Select(s => s.StepId))}");
        }
        else if (request.FromFailedStep)
        {
            resumeAt = steps.ToList().FindIndex(s => s.Status == StepStatus.Failed);
            if (resumeAt < 0)
                return WriteResult<RunRow>.Invalid("fromFailedStep", $"run '{id}' has no failed step; retry it whole or name fromStep");
        }

        var (run, retrySteps) = Retried(old, steps, resumeAt, RunService.NewId(now), now,
            request.PayloadEdited ? request.TriggerPayload : old.TriggerPayload);
        await RunWrites.InsertRunAsync(connection, tx, run);
        await RunWrites.WriteStepsAsync(connection, tx, retrySteps);
        await RunWrites.TouchWorkflowAsync(connection, tx, run.TenantId, run.WorkflowName, run.CreatedAt);
        var how = request.RunAgain ? "run again" : request.FromStep is { } from ? $"from step {from}"
            : request.FromFailedStep ? $"from failed step {steps[resumeAt].StepId}" : "whole";
        await ActivityLog.RecordAsync(connection, tx, old, now, actor, ActivityActions.Retried, Join(ActivityLog.RetriedAs(run.Id, how), detail));
        await ActivityLog.RecordAsync(connection, tx, run, now, actor, ActivityActions.RetryOf,
            Join($"{ActivityLog.RetryOf(old.Id, how)}{(request.PayloadEdited ? "; input edited: triggerPayload replaced" : "")}", detail));
        return new WriteResult<RunRow>(WriteOutcome.Created, run);
    }

    /// The queued run a retry of `old` makes, and its steps: the steps before `resumeAt` carry their results as completed
    /// cache hits, the others wait. The demo's seeded retries are made by it too.
    internal static (RunRow Run, IReadOnlyList<StepRow> Steps) Retried(RunRow old, IReadOnlyList<StepRow> steps, int resumeAt, string id,
        DateTimeOffset now, string? triggerPayload)
    {
        var nowText = DbTime.ToDb(now);
        var run = new RunRow
        {
            Id = id, TenantId = old.TenantId, WorkflowName = old.WorkflowName, Name = old.Name,
            Status = RunStatus.Queued, DryRun = old.DryRun, TriggerPayload = triggerPayload, LayerHash = old.LayerHash,
            RetryOf = old.Id, CreatedAt = nowText, StepsTotal = steps.Count, StepsCompleted = resumeAt, UpdatedAt = nowText,
        };
        return (run, steps.Select((s, i) => i < resumeAt
            ? new StepRow
            {
                TenantId = run.TenantId, RunId = run.Id, StepId = s.StepId, Seq = s.Seq, SkillId = s.SkillId, Status = StepStatus.Completed,
                CompletedAt = nowText, DurationMs = 0, CacheHit = 1, Attempt = s.Attempt, Input = s.Input, Output = s.Output,
                UpdatedAt = nowText,
            }
            : new StepRow
            {
                TenantId = run.TenantId, RunId = run.Id, StepId = s.StepId, Seq = s.Seq, SkillId = s.SkillId, Status = StepStatus.Pending,
                // A step that was tried before is on its next attempt; one never reached keeps its number.
                Attempt = s.Status == StepStatus.Pending ? s.Attempt : s.Attempt + 1, Input = s.Input, UpdatedAt = nowText,
            }).ToList());
    }

    private const string SelectExpiredLeases = $"""
        SELECT {RunRows.RunColumns} FROM runs
        WHERE status = 'running' AND lease_expires_at IS NOT NULL AND lease_expires_at < @Now
        ORDER BY lease_expires_at LIMIT 100
        """;

    /// Every instance sweeps: each takes the expired runs no other sweep holds, and keeps them locked until it commits.
    public static string ExpiredLeasesSql(ISqlDialect dialect) => SelectExpiredLeases + dialect.SkipLocked;

    private readonly string _selectExpiredLeases = ExpiredLeasesSql(dialect);

    private async Task<IReadOnlyList<RunRow>> ExpiredLeasesAsync(IDbConnection connection, IDbTransaction tx, DateTimeOffset now) =>
        (await connection.QueryAsync<RunRow>(_selectExpiredLeases, new { Now = DbTime.ToDb(now) }, tx)).ToList();

    private const string FailRunningSteps = """
        UPDATE steps SET status = 'failed', completed_at = @Now, error_message = @Message, updated_at = @Now
        WHERE tenant_id = @TenantId AND run_id = @RunId AND status = 'running'
        """;

    /// The steps a vanished worker left running failed with the run.
    private static Task FailRunningStepsAsync(IDbConnection connection, IDbTransaction tx, RunRow run, string message, DateTimeOffset now) =>
        connection.ExecuteAsync(FailRunningSteps, new { run.TenantId, RunId = run.Id, Message = message, Now = DbTime.ToDb(now) }, tx);

    /// Ends every running run whose lease ran out: failed with "worker lease expired", or cancelled
    /// when a cancel was asked for (the worker that should have acted on it is gone).
    public async Task<IReadOnlyList<RunRow>> ExpireLeasesAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var ended = await database.WriteAsync(async (connection, tx) =>
        {
            var done = new List<RunRow>();
            foreach (var run in await ExpiredLeasesAsync(connection, tx, now))
            {
                await FailRunningStepsAsync(connection, tx, run, LeaseExpiredMessage, now);
                await RunWrites.RefreshStepCountsAsync(connection, tx, run, DbTime.ToDb(now));
                var patch = new RunPatch
                {
                    Status = run.IsCancelRequested ? RunStatus.Cancelled : RunStatus.Failed,
                    ErrorGiven = true,
                    Error = new RunErrorInfo(LeaseExpiredMessage, "LeaseExpired",
                        $"No write from worker '{run.LeaseOwner}' since its lease ended at {run.LeaseExpiresAt}."),
                };
                var result = await service.UpdateInTransactionAsync(connection, tx, run, patch, now, ActivityLog.SystemActor, ActivityActions.LeaseExpired);
                if (result.Value is { } updated) done.Add(updated);
            }
            return done;
        }, ct);
        foreach (var run in ended) events.Publish(new RunChange(run.Id, run.TenantId, run.Status));
        if (ended.Count > 0) webhooks.Notify();
        return ended;
    }
}

/// The key of a claimed run: its tenant and id.
public sealed record ClaimedKey
{
    public string TenantId { get; init; } = "";
    public string Id { get; init; } = "";
}
