using System.Security.Cryptography;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Web.Runs;

/// The write rules: ids, tenants, status transitions, derived timestamps, durations and cost.
/// Every committed change is published to `IRunEvents`; every terminal transition queues webhooks.
public sealed class RunService(Database database, RunWrites writes, PriceTable prices, TimeProvider time, IRunEvents events, WebhookOutbox webhooks,
    LogStore logs, WorkerBook workers, ISqlDialect dialect, CreateGroups groups, Microsoft.Extensions.Options.IOptions<RetentionOptions> retention)
{
    /// 11 hex digits of Unix milliseconds then 9 random ones: ids sort by creation, so index inserts append.
    public static string NewId(DateTimeOffset at)
    {
        var random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))[..9];
        return at.ToUnixTimeMilliseconds().ToString("x11", System.Globalization.CultureInfo.InvariantCulture) + random;
    }

    /// A single POST's create. On PostgreSQL it joins the creates arriving with it in one statement and one commit
    /// (`CreateGroups`); on SQLite the one writer's group commit does the same with every write.
    public async Task<WriteResult<RunRow>> CreateAsync(Caller caller, NewRun request, CancellationToken ct = default)
    {
        WriteResult<RunRow> result;
        // Steps given whole are written after the run, in its transaction, and undone with it when one is refused.
        if (request.StepRecords.Count > 0)
            result = await AllOrNothingAsync((connection, tx) => CreateInTransactionAsync(connection, tx, caller, request, time.GetUtcNow()), WriteOutcome.Created, ct);
        else if (dialect.CreateRuns(GroupParts.All) is null)
            result = await database.WriteStatementAsync((connection, tx) => CreateInTransactionAsync(connection, tx, caller, request, time.GetUtcNow()), ct);
        // A run reported finished may need its webhook deliveries queued with it: not in a group's statement.
        else if (request.Patch.Status is { } status && RunStatus.IsTerminal(status) && webhooks.AnyReceiver)
            result = await database.WriteRunAsync((connection, tx) => CreateInTransactionAsync(connection, tx, caller, request, time.GetUtcNow()), ct);
        else
            result = await CreateWithAsync(caller, request, time.GetUtcNow(), rows => groups.CreateAsync(rows, ct));
        return Committed(result);
    }

    /// The create in the caller's transaction (one line of a batch, or a single POST on SQLite, or on PostgreSQL a run
    /// reported finished while receivers are configured), with the webhook deliveries of a run reported finished; without
    /// a transaction on PostgreSQL, where each attempt is one statement (`RunWrites.CreateAsync`).
    internal async Task<WriteResult<RunRow>> CreateInTransactionAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction? tx,
        Caller caller, NewRun request, DateTimeOffset now)
    {
        var result = await CreateWithAsync(caller, request, now, rows => writes.CreateAsync(connection, tx, rows));
        if (result is not { Outcome: WriteOutcome.Created, Value: { } run }) return result;
        if (request.StepRecords.Count > 0)
        {
            var inTransaction = tx ?? throw new InvalidOperationException("a run's steps given whole are written in its transaction");
            var (counted, refused) = await StepRecordsAsync(connection, inTransaction, run, request.StepRecords, now);
            if (refused is not null) return refused;
            result = result with { Value = run = counted };
        }
        if (tx is not null && IsNews(run, now))
            await webhooks.EnqueueAsync(connection, tx, run, now);
        return result;
    }

    /// The steps a run's record holds whole, each reported as its PUT is, then the run's step counts once: the run read
    /// again with them. The first refused is the answer instead, its field named by its place (`steps[2].endedAt`); what
    /// was written before it is the caller's to undo (`AllOrNothingAsync`, or a batch's refusal).
    private async Task<(RunRow Counted, WriteResult<RunRow>? Refused)> StepRecordsAsync(System.Data.IDbConnection connection,
        System.Data.IDbTransaction tx, RunRow run, IReadOnlyList<StepRecord> records, DateTimeOffset now)
    {
        foreach (var record in records)
        {
            var step = await UpsertStepInTransactionAsync(connection, tx, run, record.StepId, record.Step, now, refreshCounts: false);
            if (step.Outcome != WriteOutcome.Ok)
                return (run, new WriteResult<RunRow>(step.Outcome, Reason: step.Reason,
                    Field: string.Create(System.Globalization.CultureInfo.InvariantCulture, $"steps[{record.Index}].{step.Field ?? "stepId"}")));
        }
        await RunWrites.RefreshStepCountsAsync(connection, tx, run, DbTime.ToDb(now));
        return (await writes.GetAsync(connection, tx, run.TenantId, run.Id) ?? run, null);
    }

    /// A refusal met after some of a write's rows were written: thrown so that its transaction is rolled back, then
    /// answered as it was.
    private sealed class Undone<T>(WriteResult<T> result) : Exception(result.Reason)
    {
        public WriteResult<T> Result { get; } = result;
    }

    /// `work` in one transaction that commits only when it ends with `done`; any other outcome rolls back what it wrote.
    private async Task<WriteResult<T>> AllOrNothingAsync<T>(Func<System.Data.Common.DbConnection, System.Data.IDbTransaction, Task<WriteResult<T>>> work,
        WriteOutcome done, CancellationToken ct)
    {
        try
        {
            return await database.WriteRunAsync(async (connection, tx) =>
            {
                var result = await work(connection, tx);
                return result.Outcome == done ? result : throw new Undone<T>(result);
            }, ct);
        }
        catch (Undone<T> e)
        {
            return e.Result;
        }
    }

    /// How long ago a run reported already finished may have ended for its end to be sent to the webhooks, as a
    /// transition is: an engine that reports a run once, at its end (a Zos `layer_runs` record), is news; a run that
    /// ended longer ago is history being imported, and a year of it is not sent to a chat channel.
    public static readonly TimeSpan NotifiedWithin = TimeSpan.FromDays(1);

    private static bool IsNews(RunRow run, DateTimeOffset now) =>
        RunStatus.IsTerminal(run.Status) && DbTime.FromDb(run.CompletedAt) is { } completed && completed >= now - NotifiedWithin;

    /// The create's rules (the tenant, the id, the derived fields), its rows written by `insert`: false when the run's id
    /// is taken in its tenant.
    private async Task<WriteResult<RunRow>> CreateWithAsync(Caller caller, NewRun request, DateTimeOffset now, Func<NewRunRows, Task<bool>> insert)
    {
        string tenant;
        if (request.TenantId is { } asked && asked != caller.TenantId)
        {
            if (!caller.IsSuperAdmin) return WriteResult<RunRow>.Forbidden("tenantId is for super admins; your key writes to its own tenant") with { Field = "tenantId" };
            tenant = asked;
        }
        else tenant = caller.TenantId ?? request.TenantId ?? Caller.DefaultTenant;

        var nowText = DbTime.ToDb(now);
        // A run reported after it began (a backfill, or an engine that reports late) was created no later than its start
        // or its end: without a createdAt of its own it takes the earlier of those, so it is not listed as created now.
        var created = request.CreatedAt ?? Earliest(now, request.Patch.StartedAt, request.Patch.CompletedAt);
        var run = new RunRow
        {
            Id = request.Id ?? NewId(now),
            TenantId = tenant,
            WorkflowName = request.WorkflowName,
            Name = request.Name,
            Status = RunStatus.Queued,
            DryRun = request.DryRun ? 1 : 0,
            TriggerPayload = request.TriggerPayload,
            LayerHash = request.LayerHash,
            WorkflowVersion = request.WorkflowVersion,
            TriggerType = request.TriggerType,
            BaseRunId = request.BaseRunId,
            CreatedAt = DbTime.ToDb(created),
            StepsTotal = request.Steps.Count,
            UpdatedAt = nowText,
        };
        run = Apply(run, request.Patch, now);
        if (TooLong(run.DurationMs, request.Patch.StartedAt, request.Patch.CompletedAt, "run") is { } tooLong)
            return WriteResult<RunRow>.Invalid(tooLong.Field, tooLong.Reason);
        if (TimesRefused(run.Status, now, request.Patch, request.CreatedAt) is { } badTime)
            return WriteResult<RunRow>.Invalid(badTime.Field, badTime.Reason);
        if (PastRetention(run, now) is { } past)
            return WriteResult<RunRow>.Invalid("completedAt", past);

        NewRunRows Rows(RunRow run) => new(run,
            request.Steps.Select((s, i) => new StepRow
            {
                TenantId = run.TenantId, RunId = run.Id, StepId = s.StepId, Seq = i, SkillId = s.SkillId, Status = StepStatus.Pending, UpdatedAt = nowText,
            }).ToList(),
            RunWrites.ErrorRows(run, request.Patch.Errors ?? []),
            ActivityLog.Entry(run.TenantId, run.Id, now, caller.Actor, ActivityActions.Created,
                run.Status == RunStatus.Queued ? null : $"reported as {run.Status}"));

        var inserted = await insert(Rows(run));
        // A generated id that collides (36 random bits within one millisecond) is drawn again.
        for (var attempt = 0; !inserted && request.Id is null && attempt < 5; attempt++)
        {
            run = run with { Id = NewId(now) };
            inserted = await insert(Rows(run));
        }
        // Only what is true inside the run's tenant: another tenant's runs never collide with it.
        if (!inserted)
            return WriteResult<RunRow>.Conflict($"a run with id '{run.Id}' already exists in tenant '{run.TenantId}'");
        return new WriteResult<RunRow>(WriteOutcome.Created, run);
    }

    private static DateTimeOffset Earliest(DateTimeOffset now, DateTimeOffset? started, DateTimeOffset? completed)
    {
        if (started < now) now = started.Value;
        if (completed < now) now = completed.Value;
        return now;
    }

    /// `tenant`: the tenant the id is looked up in (the caller's own; a super admin's choice, or null for any).
    /// `actor`: who the run's activity names for a status change (`Caller.Actor`); the run's worker when not given.
    public async Task<WriteResult<RunRow>> UpdateAsync(string? tenant, string id, RunPatch patch, CancellationToken ct = default, string? actor = null)
    {
        async Task<WriteResult<RunRow>> Update(System.Data.Common.DbConnection connection, System.Data.IDbTransaction tx)
        {
            var run = await writes.GetAsync(connection, tx, tenant, id);
            if (run is null) return WriteResult<RunRow>.NotFound();
            return await UpdateInTransactionAsync(connection, tx, run, patch, time.GetUtcNow(), actor);
        }
        // An update's steps are written before the run's row, which may still be refused: then they are undone with it.
        var result = patch.Steps.Count > 0 ? await AllOrNothingAsync(Update, WriteOutcome.Ok, ct) : await database.WriteRunAsync(Update, ct);
        return Committed(result);
    }

    /// The one path a run's row changes by: the transition rule, the guarded UPDATE, the webhook deliveries of a
    /// terminal transition and the activity of a status change, all in the caller's transaction. `actor` defaults to
    /// the run's worker (or `system`); `action` replaces the status word in the activity (`lease-expired`).
    internal async Task<WriteResult<RunRow>> UpdateInTransactionAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction tx,
        RunRow run, RunPatch patch, DateTimeOffset now, string? actor = null, string? action = null)
    {
        if (ChangedOnUpdate(run, patch.Repeated) is { } changed)
            return WriteResult<RunRow>.Conflict(changed);
        if (patch.Placeholder && RunStatus.IsTerminal(run.Status))
            return WriteResult<RunRow>.Conflict($"dry with its end null is Zos's placeholder row for a run under way, and run is {run.Status}; a finished run cannot start again");
        if (patch.Status is { } to && RunStatus.RefuseTransition(run.Status, to) is { } reason)
            return WriteResult<RunRow>.Conflict(reason);
        // Nothing is written before every check has passed: the write path commits what a refused write did.
        var filled = patch.Repeated.Count > 0 ? FilledOnUpdate(run, patch.Repeated) : null;
        var updated = Apply(filled ?? run, patch, now);
        if (TooLong(updated.DurationMs, patch.StartedAt, patch.CompletedAt, "run") is { } tooLong)
            return WriteResult<RunRow>.Invalid(tooLong.Field, tooLong.Reason);
        if (TimesRefused(updated.Status, now, patch) is { } badTime)
            return WriteResult<RunRow>.Invalid(badTime.Field, badTime.Reason);
        if (patch.Steps.Count > 0)
        {
            var (counted, refused) = await StepRecordsAsync(connection, tx, run, patch.Steps, now);
            if (refused is not null) return refused;
            updated = updated with { StepsTotal = counted.StepsTotal, StepsCompleted = counted.StepsCompleted };
        }
        if (!await RunWrites.UpdateRunAsync(connection, tx, run, updated, rowChangedSince: patch.Steps.Count > 0))
            return WriteResult<RunRow>.Conflict("the run changed while this update was applied; read it and try again");
        if (filled is not null) await RunWrites.FillCreatedWithAsync(connection, tx, updated);
        if (patch.Errors is { } errors) await RunWrites.ReplaceErrorsAsync(connection, tx, run, errors);
        if (ActivityLog.ForTransition(run, updated) is { } entry)
            await ActivityLog.RecordAsync(connection, tx, run, now, actor ?? run.LeaseOwner ?? ActivityLog.SystemActor, action ?? entry.Action, entry.Detail);
        await workers.RunWrittenAsync(connection, tx, run, updated, now);
        if (!RunStatus.IsTerminal(run.Status) && RunStatus.IsTerminal(updated.Status))
            await webhooks.EnqueueAsync(connection, tx, updated, now);
        return new WriteResult<RunRow>(WriteOutcome.Ok, updated);
    }

    /// The first field an update repeats from what the run was created with (an engine sending its whole record) that is
    /// not what is stored: the 409's reason. A JSON payload is compared as JSON (key order and spaces aside). A field the
    /// run was created without is not a change: the update fills it in (`FilledOnUpdate`).
    private static string? ChangedOnUpdate(RunRow run, IReadOnlyList<RepeatedField> repeated)
    {
        foreach (var (field, value) in repeated)
        {
            var stored = CreatedWith(run, field);
            if (stored is null) continue;
            if (field == "triggerPayload")
            {
                if (!System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(stored), System.Text.Json.Nodes.JsonNode.Parse(value)))
                    return "triggerPayload is not the one the run was created with; an update cannot change what a run was created with";
            }
            else if (stored != value)
            {
                return $"{field} is '{stored}' for this run, not '{value}'; an update cannot change what a run was created with";
            }
        }
        return null;
    }

    private static string? CreatedWith(RunRow run, string field) => field switch
    {
        "tenantId" => run.TenantId,
        "workflowName" or "layer_name" => run.WorkflowName,
        "workflowVersion" => run.WorkflowVersion,
        "triggerType" => run.TriggerType,
        "baseRunId" => run.BaseRunId,
        "layerHash" or "layer_hash" => run.LayerHash,
        "triggerPayload" => run.TriggerPayload,
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, "not a field a run is created with"),
    };

    /// The run with the create-only fields it lacked taken from an update that gives them; null when it lacked none of
    /// those given.
    private static RunRow? FilledOnUpdate(RunRow run, IReadOnlyList<RepeatedField> repeated)
    {
        var filled = run;
        foreach (var (field, value) in repeated)
        {
            if (CreatedWith(run, field) is not null) continue;
            filled = field switch
            {
                "workflowVersion" => filled with { WorkflowVersion = value },
                "triggerType" => filled with { TriggerType = value },
                "baseRunId" => filled with { BaseRunId = value },
                "layerHash" or "layer_hash" => filled with { LayerHash = value },
                "triggerPayload" => filled with { TriggerPayload = value },
                _ => filled,
            };
        }
        return ReferenceEquals(filled, run) ? null : filled;
    }

    /// The longest a run or a step may last, in ms: what any count may be (`JsonBody.MaxCount`), 31 years. A longer span
    /// is a time given wrong (a start in year 1, an end in year 9999), and one such run skews every average it enters.
    public const long MaxDurationMs = 1_000_000_000_000;

    /// A duration past `MaxDurationMs` that a time given in this write made, refused naming that time (the end when
    /// both were). A write that gave none (a lease expiring, a cancel) is never refused for a run stored before.
    private static (string Field, string Reason)? TooLong(long? durationMs, DateTimeOffset? startGiven, DateTimeOffset? endGiven, string what,
        string endField = "completedAt") =>
        durationMs > MaxDurationMs && (startGiven is not null || endGiven is not null)
            ? (endGiven is null ? "startedAt" : endField,
                $"makes the {what} last more than 31 years (1,000,000,000,000 ms); check the years of its start and end")
            : null;

    /// How far ahead of the server's clock a given time may be: an engine's clock that runs a little fast is not refused.
    /// A time further ahead is a mistaken year or time zone; kept, it would count in every "last 24 hours" until its day
    /// came, sort above every real run, and never be old enough for retention.
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(1);

    /// A time this write gave that cannot be: one more than `MaxAhead` ahead of now, or an end for a run that has not
    /// ended (kept, it would outlast the run's real end, and retention would delete a run that finished today by it).
    private static (string Field, string Reason)? TimesRefused(string status, DateTimeOffset now, RunPatch patch, DateTimeOffset? createdAt = null) =>
        Ahead(now, ("createdAt", createdAt), ("startedAt", patch.StartedAt), ("completedAt", patch.CompletedAt))
        ?? (patch.CompletedAt is not null && !RunStatus.IsTerminal(status)
            ? ("completedAt", $"is for a run that has ended, and this one is {status}; send it with the run's final status (completed, partial, failed, cancelled or dry)")
            : null);

    /// A finished run created past the retention period would be deleted by the next purge (within the hour): refused,
    /// so an engine or an import is told, not answered 201 for a run that then vanishes.
    private string? PastRetention(RunRow run, DateTimeOffset now) =>
        retention.Value.RetentionDays is > 0 and var days && RunStatus.IsTerminal(run.Status)
        && DbTime.FromDb(run.CompletedAt) is { } completed && completed < now - TimeSpan.FromDays(days)
            ? $"is more than {days} days ago: this store keeps finished runs for {days} days (RunMonitor:RetentionDays), so the run would be deleted by its next purge; raise RetentionDays (0 keeps every run) to import older history"
            : null;

    private static (string Field, string Reason)? Ahead(DateTimeOffset now, params ReadOnlySpan<(string Field, DateTimeOffset? At)> times)
    {
        foreach (var (field, at) in times)
        {
            if (at > now + MaxAhead)
                return (field, $"is more than a day ahead of the server's clock ({DbTime.ToDb(now)}); check its year and time zone");
        }
        return null;
    }

    /// After the commit: live views learn of the change, the dispatcher of new deliveries.
    internal WriteResult<T> Committed<T>(WriteResult<T> result)
    {
        var run = result.Value switch
        {
            RunRow r => new RunChange(r.Id, r.TenantId, r.Status),
            StepRow s => new RunChange(s.RunId, s.TenantId, ""),
            LogAppend { Accepted: > 0 } l => RunChange.Log(l.RunId, l.TenantId),
            _ => null,
        };
        if (run is not null && result.Outcome is WriteOutcome.Ok or WriteOutcome.Created)
        {
            events.Publish(run);
            if (RunStatus.IsTerminal(run.Status)) webhooks.Notify();
        }
        return result;
    }

    /// Folds a patch into a run: derived start/end times, duration, and a cost estimate from tokens.
    private RunRow Apply(RunRow run, RunPatch patch, DateTimeOffset now)
    {
        var status = patch.Status ?? run.Status;
        var startedAt = DbTime.ToDb(patch.StartedAt) ?? run.StartedAt;
        var completedAt = DbTime.ToDb(patch.CompletedAt) ?? run.CompletedAt;
        // A run seen running starts now unless told otherwise; a backfilled finished run without a start stays without one.
        if (status == RunStatus.Running && startedAt is null) startedAt = DbTime.ToDb(now);
        if (RunStatus.IsTerminal(status) && completedAt is null) completedAt = DbTime.ToDb(now);
        // The engine's own measure when it gives one (omeercs does), kept until the times it was measured between change.
        var duration = patch.DurationMs
            ?? (run.DurationMs is not null && startedAt == run.StartedAt && completedAt == run.CompletedAt ? run.DurationMs : DbTime.Between(startedAt, completedAt));

        var updated = run with
        {
            Status = status,
            DryRun = status == RunStatus.Dry ? 1 : run.DryRun,
            StartedAt = startedAt,
            CompletedAt = completedAt,
            DurationMs = duration,
            Context = patch.Context ?? Kept(run.Context, patch.Cleared, Cleared.Context),
            UpdatedAt = DbTime.ToDb(now),
        };
        if (patch.ErrorGiven)
        {
            var e = patch.Error;
            updated = updated with
            {
                ErrorMessage = e?.Message, ErrorType = e?.Type, ErrorStack = e?.Stack, ErrorCode = e?.Code,
                ErrorFailedStepId = e?.FailedStepId, ErrorTimestamp = DbTime.ToDb(e?.Timestamp),
            };
        }
        var cleared = patch.Cleared;
        if (patch.Metrics is not null || (cleared & Cleared.Metrics) != 0)
        {
            var m = patch.Metrics;
            updated = updated with
            {
                TargetsMatched = m?.TargetsMatched ?? Kept(run.TargetsMatched, cleared, Cleared.TargetsMatched),
                TargetsProcessed = m?.TargetsProcessed ?? Kept(run.TargetsProcessed, cleared, Cleared.TargetsProcessed),
                TargetsSkipped = m?.TargetsSkipped ?? Kept(run.TargetsSkipped, cleared, Cleared.TargetsSkipped),
                InsightsCreated = m?.InsightsCreated ?? Kept(run.InsightsCreated, cleared, Cleared.InsightsCreated),
            };
        }
        if (patch.Usage is not null || (cleared & Cleared.Usage) != 0)
        {
            var u = patch.Usage;
            updated = updated with
            {
                ModelProfile = u?.Profile ?? Kept(run.ModelProfile, cleared, Cleared.Profile),
                ModelProvider = u?.Provider ?? Kept(run.ModelProvider, cleared, Cleared.Provider),
                ModelName = u?.Model ?? Kept(run.ModelName, cleared, Cleared.Model),
                TokensInput = u?.TokensInput ?? Kept(run.TokensInput, cleared, Cleared.TokensInput),
                TokensOutput = u?.TokensOutput ?? Kept(run.TokensOutput, cleared, Cleared.TokensOutput),
            };
            if (u?.CostUsd is { } cost) updated = updated with { CostUsd = cost, CostEstimated = 0 };
            // A cost given as null is the engine saying it has none: estimated, as one never reported is. So is a $0 reported
            // before any token (an engine's placeholder) once tokens come: it priced nothing, and would show them as $0;
            // but only by an estimate (a model the table does not price keeps the engine's 0).
            else if ((cleared & Cleared.CostUsd) != 0 || run.CostUsd is null || run.IsCostEstimated)
                updated = Estimated(updated);
            else if (run.CostUsd == 0 && (run.TokensInput ?? 0) + (run.TokensOutput ?? 0) == 0 && (updated.TokensInput ?? 0) + (updated.TokensOutput ?? 0) > 0
                     && Estimated(updated) is { CostUsd: not null } priced)
                updated = priced;
        }
        if (RunStatus.IsTerminal(status)) updated = updated with { LeaseOwner = null, LeaseExpiresAt = null };
        // Any write from the worker holding the lease moves the lease on.
        else if (updated.Status == RunStatus.Running && updated.LeaseOwner is not null && updated.LeaseSeconds is { } seconds)
            updated = updated with { LeaseExpiresAt = DbTime.ToDb(now.AddSeconds(seconds)) };
        return updated;
    }

    private RunRow Estimated(RunRow run)
    {
        var estimate = prices.Estimate(run.ModelName, run.TokensInput, run.TokensOutput);
        return run with { CostUsd = estimate, CostEstimated = estimate is null ? 0 : 1 };
    }

    /// What is stored, or null when the write cleared it (gave it as JSON null).
    private static T? Kept<T>(T? stored, Cleared cleared, Cleared field) where T : class => (cleared & field) != 0 ? null : stored;

    private static long? Kept(long? stored, Cleared cleared, Cleared field) => (cleared & field) != 0 ? null : stored;

    public async Task<WriteResult<StepRow>> UpsertStepAsync(string? tenant, string runId, string stepId, StepUpsert request, CancellationToken ct = default)
    {
        var result = await database.WriteRunAsync(async (connection, tx) =>
        {
            var run = await writes.GetAsync(connection, tx, tenant, runId);
            if (run is null) return new WriteResult<StepRow>(WriteOutcome.NotFound, Reason: "Run not found");
            return await UpsertStepInTransactionAsync(connection, tx, run, stepId, request, time.GetUtcNow());
        }, ct);
        return Committed(result);
    }

    /// The step upsert in the caller's transaction, on a run it read there (a single PUT, or one line of a batch).
    /// `refreshCounts` false leaves the run's step counts to the caller (a batch refreshes them once a run, at
    /// `RunWrites.RefreshStepCountsAsync`, before anything reads them).
    internal async Task<WriteResult<StepRow>> UpsertStepInTransactionAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction tx,
        RunRow run, string stepId, StepUpsert request, DateTimeOffset now, bool refreshCounts = true)
    {
        if (request.TenantId is { } named && named != run.TenantId)
            return WriteResult<StepRow>.Invalid("tenantId", $"is '{named}' but run '{run.Id}' belongs to tenant '{run.TenantId}'; leave it out or make them agree");
        var nowText = DbTime.ToDb(now);
        var existing = await RunRows.GetStepAsync(connection, tx, run, stepId)
            ?? new StepRow { TenantId = run.TenantId, RunId = run.Id, StepId = stepId, Seq = await RunWrites.NextStepSeqAsync(connection, tx, run) };
        var status = request.Status ?? existing.Status;
        // A step this write sets pending or running has not ended: one set going again after it ended (an engine's next
        // attempt) keeps neither the end nor the duration of the attempt before, nor (pending) its start, and starts now
        // unless the write says when. Kept, a running step was shown ended before it began, lasting 0.0 s. An end given
        // with such a status is refused, as a run's is (TimesRefused). A write that names no status changes none of this.
        var restarted = request.Status is StepStatus.Pending or StepStatus.Running;
        if (restarted && request.CompletedAt is not null)
            return WriteResult<StepRow>.Invalid(request.EndField,
                $"is for a step that has ended, and this one is {status}; send it with the step's final status (completed, failed, skipped or cancelled)");
        var again = restarted && existing.CompletedAt is not null;
        var startedAt = DbTime.ToDb(request.StartedAt) ?? (!again ? existing.StartedAt : status == StepStatus.Running ? nowText : null);
        var completedAt = DbTime.ToDb(request.CompletedAt) ?? (restarted ? null : existing.CompletedAt);
        if (status == StepStatus.Running && startedAt is null) startedAt = nowText;
        if (status is StepStatus.Completed or StepStatus.Failed or StepStatus.Skipped or StepStatus.Cancelled && completedAt is null && startedAt is not null)
            completedAt = nowText;
        var duration = request.DurationMs ?? DbTime.Between(startedAt, completedAt) ?? (restarted ? null : existing.DurationMs);
        if (TooLong(duration, request.StartedAt, request.CompletedAt, "step", request.EndField) is { } tooLong)
            return WriteResult<StepRow>.Invalid(tooLong.Field, tooLong.Reason);
        if (Ahead(now, ("startedAt", request.StartedAt), (request.EndField, request.CompletedAt)) is { } ahead)
            return WriteResult<StepRow>.Invalid(ahead.Field, ahead.Reason);
        var step = existing with
        {
            SkillId = request.SkillId ?? Kept(existing.SkillId, request.Cleared, Cleared.SkillId),
            Status = status,
            StartedAt = startedAt,
            CompletedAt = completedAt,
            DurationMs = duration,
            CacheHit = request.CacheHit is { } hit ? (hit ? 1 : 0) : existing.CacheHit,
            Attempt = request.Attempt ?? existing.Attempt,
            Input = request.Input ?? Kept(existing.Input, request.Cleared, Cleared.Input),
            Output = request.Output ?? Kept(existing.Output, request.Cleared, Cleared.Output),
            InputHash = request.InputHash ?? Kept(existing.InputHash, request.Cleared, Cleared.InputHash),
            OutputArtifactIds = request.OutputArtifactIds ?? Kept(existing.OutputArtifactIds, request.Cleared, Cleared.OutputArtifactIds),
            ErrorMessage = request.ErrorGiven ? request.ErrorMessage : existing.ErrorMessage,
            ErrorStack = request.ErrorGiven ? request.ErrorStack : existing.ErrorStack,
            ErrorCode = request.ErrorGiven ? request.ErrorCode : existing.ErrorCode,
            ErrorAttempt = request.ErrorGiven ? request.ErrorAttempt : existing.ErrorAttempt,
            ErrorTimestamp = request.ErrorGiven ? DbTime.ToDb(request.ErrorTimestamp) : existing.ErrorTimestamp,
            ErrorDetails = request.ErrorGiven ? request.ErrorDetails : existing.ErrorDetails,
            UpdatedAt = nowText,
        };
        await RunWrites.WriteStepsAsync(connection, tx, [step]);
        if (refreshCounts) await RunWrites.RefreshStepCountsAsync(connection, tx, run, nowText);
        await RunWrites.RenewLeaseAsync(connection, tx, run, now);
        await workers.RunWrittenAsync(connection, tx, run, run, now);
        return new WriteResult<StepRow>(WriteOutcome.Ok, step);
    }

    /// Appends log lines to a run, finished or not (engines flush late), and renews the worker's lease.
    public async Task<WriteResult<LogAppend>> AppendLogsAsync(string? tenant, string runId, IReadOnlyList<LogLineIn> lines, CancellationToken ct = default)
    {
        var result = await database.WriteRunAsync(async (connection, tx) =>
        {
            var run = await writes.GetAsync(connection, tx, tenant, runId);
            if (run is null) return WriteResult<LogAppend>.NotFound();
            return await AppendLogsInTransactionAsync(connection, tx, run, lines, time.GetUtcNow());
        }, ct);
        return Committed(result);
    }

    /// The append in the caller's transaction, on a run it read there (a single POST, or one line of a batch).
    internal async Task<WriteResult<LogAppend>> AppendLogsInTransactionAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction tx,
        RunRow run, IReadOnlyList<LogLineIn> lines, DateTimeOffset now)
    {
        var appended = await logs.AppendAsync(connection, tx, run, lines, now);
        await RunWrites.RenewLeaseAsync(connection, tx, run, now);
        await workers.RunWrittenAsync(connection, tx, run, run, now);
        return new WriteResult<LogAppend>(WriteOutcome.Ok, appended);
    }
}
