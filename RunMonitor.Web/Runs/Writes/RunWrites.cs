using System.Data;
using System.Data.Common;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// The run writes' statements: runs, errors, steps and the workflow list. Each runs inside the caller's transaction
/// from `Database.WriteAsync`; `GetAsync` reads a run there with the dialect's row lock.
public sealed class RunWrites(ISqlDialect dialect)
{
    private readonly string _selectRunForWrite = RunRows.SelectRun + dialect.ForUpdate;

    /// The run as `RunRows.GetAsync` reads it; on PostgreSQL locked to the end of the transaction, so writes to one
    /// run take turns whichever instance they come through, as SQLite's one writer makes them.
    public Task<RunRow?> GetAsync(IDbConnection connection, IDbTransaction tx, string? tenant, string id) =>
        RunRows.GetAsync(connection, tx, tenant, id, _selectRunForWrite);

    /// The run's INSERT, which a conflict on its id in its tenant leaves undone (PostgreSQL's create builds on it).
    internal const string InsertRun = """
        INSERT INTO runs (id, tenant_id, workflow_name, name, status, dry_run, trigger_payload, context,
            error_message, error_type, error_stack, created_at, started_at, completed_at, duration_ms,
            targets_matched, targets_processed, targets_skipped, insights_created,
            model_profile, model_provider, model_name, tokens_input, tokens_output, cost_usd, cost_estimated,
            layer_hash, retry_of, cancel_requested, lease_owner, lease_expires_at, steps_total, steps_completed, updated_at,
            workflow_version, trigger_type, base_run_id, error_code, error_failed_step_id, error_timestamp)
        VALUES (@Id, @TenantId, @WorkflowName, @Name, @Status, @DryRun, @TriggerPayload, @Context,
            @ErrorMessage, @ErrorType, @ErrorStack, @CreatedAt, @StartedAt, @CompletedAt, @DurationMs,
            @TargetsMatched, @TargetsProcessed, @TargetsSkipped, @InsightsCreated,
            @ModelProfile, @ModelProvider, @ModelName, @TokensInput, @TokensOutput, @CostUsd, @CostEstimated,
            @LayerHash, @RetryOf, @CancelRequested, @LeaseOwner, @LeaseExpiresAt, @StepsTotal, @StepsCompleted, @UpdatedAt,
            @WorkflowVersion, @TriggerType, @BaseRunId, @ErrorCode, @ErrorFailedStepId, @ErrorTimestamp)
        ON CONFLICT (tenant_id, id) DO NOTHING
        """;

    /// False when a run with that id already exists in the run's tenant (another tenant's runs are never looked at).
    public static async Task<bool> InsertRunAsync(IDbConnection connection, IDbTransaction tx, RunRow run) =>
        await connection.ExecutePreparedAsync(InsertRun, run, tx) == 1;

    /// Writes a new run with its planned steps and errors, its `created` activity and its workflow's last sighting, in
    /// the caller's transaction; false (and nothing written) when its id is taken in its tenant. On PostgreSQL one
    /// statement (`ISqlDialect.CreateRun`), atomic without a transaction of its own; on SQLite one statement a table.
    public async Task<bool> CreateAsync(IDbConnection connection, IDbTransaction? tx, NewRunRows rows)
    {
        if (dialect.CreateRun is { } oneStatement)
        {
            var p = new DynamicParameters(rows.Run);
            p.Add("StepIds", rows.Steps.Select(s => s.StepId).ToArray());
            p.Add("StepSkills", rows.Steps.Select(s => s.SkillId).ToArray());
            p.Add("ErrorTopics", rows.Errors.Select(e => e.Topic).ToArray());
            p.Add("ErrorTexts", rows.Errors.Select(e => e.Error).ToArray());
            p.Add("ErrorNodes", rows.Errors.Select(e => e.Node).ToArray());
            p.Add("ActivityAt", rows.Created.At);
            p.Add("Actor", rows.Created.Actor);
            p.Add("Action", rows.Created.Action);
            p.Add("Detail", rows.Created.Detail);
            return await connection.ExecuteScalarAsync<long>(oneStatement, p, tx) == 1;
        }
        if (!await InsertRunAsync(connection, tx!, rows.Run)) return false;
        if (rows.Errors.Count > 0) await connection.ExecutePreparedAsync(InsertError, rows.Errors, tx);
        await WriteStepsAsync(connection, tx!, rows.Steps);
        await TouchWorkflowAsync(connection, tx!, rows.Run.TenantId, rows.Run.WorkflowName, rows.Run.UpdatedAt);
        await ActivityLog.RecordAsync(connection, tx, rows.Created);
        return true;
    }

    /// The columns of `InsertRun`, each with its PostgreSQL type and its values for a group of runs as one array: the
    /// multi-run create (`ISqlDialect.CreateRuns`) passes each column as one parameter, and so each of the tables below.
    internal static readonly ArrayColumn<RunRow>[] RunColumns =
    [
        Text<RunRow>("id", r => r.Id), Text<RunRow>("tenant_id", r => r.TenantId), Text<RunRow>("workflow_name", r => r.WorkflowName),
        Text<RunRow>("name", r => r.Name), Text<RunRow>("status", r => r.Status), Number<RunRow>("dry_run", r => r.DryRun),
        Text<RunRow>("trigger_payload", r => r.TriggerPayload), Text<RunRow>("context", r => r.Context),
        Text<RunRow>("error_message", r => r.ErrorMessage), Text<RunRow>("error_type", r => r.ErrorType),
        Text<RunRow>("error_stack", r => r.ErrorStack), Text<RunRow>("created_at", r => r.CreatedAt),
        Text<RunRow>("started_at", r => r.StartedAt), Text<RunRow>("completed_at", r => r.CompletedAt),
        Number<RunRow>("duration_ms", r => r.DurationMs), Number<RunRow>("targets_matched", r => r.TargetsMatched),
        Number<RunRow>("targets_processed", r => r.TargetsProcessed), Number<RunRow>("targets_skipped", r => r.TargetsSkipped),
        Number<RunRow>("insights_created", r => r.InsightsCreated), Text<RunRow>("model_profile", r => r.ModelProfile),
        Text<RunRow>("model_provider", r => r.ModelProvider), Text<RunRow>("model_name", r => r.ModelName),
        Number<RunRow>("tokens_input", r => r.TokensInput), Number<RunRow>("tokens_output", r => r.TokensOutput),
        Typed<RunRow, double?>("cost_usd", "float8", NpgsqlDbType.Double, r => r.CostUsd), Number<RunRow>("cost_estimated", r => r.CostEstimated),
        Text<RunRow>("layer_hash", r => r.LayerHash), Text<RunRow>("retry_of", r => r.RetryOf),
        Number<RunRow>("cancel_requested", r => r.CancelRequested), Text<RunRow>("lease_owner", r => r.LeaseOwner),
        Text<RunRow>("lease_expires_at", r => r.LeaseExpiresAt), Number<RunRow>("steps_total", r => r.StepsTotal),
        Number<RunRow>("steps_completed", r => r.StepsCompleted), Text<RunRow>("updated_at", r => r.UpdatedAt),
        Text<RunRow>("workflow_version", r => r.WorkflowVersion), Text<RunRow>("trigger_type", r => r.TriggerType),
        Text<RunRow>("base_run_id", r => r.BaseRunId), Text<RunRow>("error_code", r => r.ErrorCode),
        Text<RunRow>("error_failed_step_id", r => r.ErrorFailedStepId), Text<RunRow>("error_timestamp", r => r.ErrorTimestamp),
    ];

    /// A new run's planned steps, as `CreateAsync` writes them.
    internal static readonly ArrayColumn<StepRow>[] StepColumns =
    [
        Text<StepRow>("tenant_id", s => s.TenantId), Text<StepRow>("run_id", s => s.RunId), Text<StepRow>("step_id", s => s.StepId),
        Number<StepRow>("seq", s => s.Seq), Text<StepRow>("skill_id", s => s.SkillId), Text<StepRow>("status", s => s.Status),
        Text<StepRow>("updated_at", s => s.UpdatedAt),
    ];

    internal static readonly ArrayColumn<RunErrorRow>[] ErrorColumns =
    [
        Text<RunErrorRow>("tenant_id", e => e.TenantId), Text<RunErrorRow>("run_id", e => e.RunId), Number<RunErrorRow>("seq", e => e.Seq),
        Text<RunErrorRow>("topic", e => e.Topic), Text<RunErrorRow>("error", e => e.Error), Text<RunErrorRow>("node", e => e.Node),
    ];

    internal static readonly ArrayColumn<ActivityRow>[] ActivityColumns =
    [
        Text<ActivityRow>("tenant_id", a => a.TenantId), Text<ActivityRow>("run_id", a => a.RunId), Text<ActivityRow>("at", a => a.At),
        Text<ActivityRow>("actor", a => a.Actor), Text<ActivityRow>("action", a => a.Action), Text<ActivityRow>("detail", a => a.Detail),
    ];

    /// Where each table's columns start among the parameters of a group's create with `parts` ($1 on): the runs', the
    /// steps', the errors' (when written), the activity's, in this order (`CreateManyAsync` adds them so).
    internal static (int Steps, int Errors, int Activity) ColumnsFrom(GroupParts parts)
    {
        var steps = RunColumns.Length + 1;
        var errors = steps + StepColumns.Length;
        return (steps, errors, parts.HasFlag(GroupParts.Errors) ? errors + ErrorColumns.Length : errors);
    }

    private static ArrayColumn<T> Text<T>(string name, Func<T, string?> value) => Typed(name, "text", NpgsqlDbType.Text, value);

    private static ArrayColumn<T> Number<T>(string name, Func<T, long?> value) => Typed(name, "bigint", NpgsqlDbType.Bigint, value);

    /// A column bound as an array of `element` (the SQL type `type`), one value a row.
    private static ArrayColumn<T> Typed<T, TValue>(string name, string type, NpgsqlDbType element, Func<T, TValue> value) =>
        new(name, type, rows => new NpgsqlParameter<TValue[]> { NpgsqlDbType = NpgsqlDbType.Array | element, TypedValue = Values(rows, value) });

    private static TValue[] Values<T, TValue>(IReadOnlyList<T> rows, Func<T, TValue> value)
    {
        var values = new TValue[rows.Count];
        for (var i = 0; i < values.Length; i++) values[i] = value(rows[i]);
        return values;
    }

    /// Writes many new runs as `CreateAsync` writes one, in one statement (`ISqlDialect.CreateRuns`) that commits by
    /// itself; the answer holds the runs inserted, by tenant and id (a run whose id is taken in its tenant is not, and
    /// nothing of it is written). No two runs of `creates` may share a tenant and id.
    /// The parameters are typed and positional (Npgsql neither infers a type from each value nor rewrites names).
    /// `parts` must hold `GroupParts.Errors` when any run of `creates` has errors.
    public async Task<IReadOnlySet<RunKey>> CreateManyAsync(DbConnection connection, IReadOnlyList<NewRunRows> creates, GroupParts parts)
    {
        var sql = dialect.CreateRuns(parts) ?? throw new InvalidOperationException("the store writes one create at a time");
        var errors = creates.SelectMany(c => c.Errors).ToList();
        if (errors.Count > 0 && !parts.HasFlag(GroupParts.Errors)) throw new ArgumentException("the group has errors to write", nameof(parts));
        await using var command = (NpgsqlCommand)connection.CreateCommand();
        command.CommandText = sql;
        var p = command.Parameters;
        ArrayColumn<RunRow>.AddAll(p, RunColumns, creates.Select(c => c.Run).ToList());
        ArrayColumn<StepRow>.AddAll(p, StepColumns, creates.SelectMany(c => c.Steps).ToList());
        if (parts.HasFlag(GroupParts.Errors)) ArrayColumn<RunErrorRow>.AddAll(p, ErrorColumns, errors);
        ArrayColumn<ActivityRow>.AddAll(p, ActivityColumns, creates.Select(c => c.Created).ToList());
        var inserted = new HashSet<RunKey>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) inserted.Add(new RunKey(reader.GetString(0), reader.GetString(1)));
        return inserted;
    }

    /// The columns an update may change, each with the `RunRow` property it is bound from (by name) and read by.
    private static readonly (string Column, string Property, Func<RunRow, object?> Value)[] Mutable =
    [
        ("status", nameof(RunRow.Status), r => r.Status), ("dry_run", nameof(RunRow.DryRun), r => r.DryRun),
        ("context", nameof(RunRow.Context), r => r.Context), ("error_message", nameof(RunRow.ErrorMessage), r => r.ErrorMessage),
        ("error_type", nameof(RunRow.ErrorType), r => r.ErrorType), ("error_stack", nameof(RunRow.ErrorStack), r => r.ErrorStack),
        ("error_code", nameof(RunRow.ErrorCode), r => r.ErrorCode), ("error_failed_step_id", nameof(RunRow.ErrorFailedStepId), r => r.ErrorFailedStepId),
        ("error_timestamp", nameof(RunRow.ErrorTimestamp), r => r.ErrorTimestamp), ("started_at", nameof(RunRow.StartedAt), r => r.StartedAt),
        ("completed_at", nameof(RunRow.CompletedAt), r => r.CompletedAt), ("duration_ms", nameof(RunRow.DurationMs), r => r.DurationMs),
        ("targets_matched", nameof(RunRow.TargetsMatched), r => r.TargetsMatched), ("targets_processed", nameof(RunRow.TargetsProcessed), r => r.TargetsProcessed),
        ("targets_skipped", nameof(RunRow.TargetsSkipped), r => r.TargetsSkipped), ("insights_created", nameof(RunRow.InsightsCreated), r => r.InsightsCreated),
        ("model_profile", nameof(RunRow.ModelProfile), r => r.ModelProfile), ("model_provider", nameof(RunRow.ModelProvider), r => r.ModelProvider),
        ("model_name", nameof(RunRow.ModelName), r => r.ModelName), ("tokens_input", nameof(RunRow.TokensInput), r => r.TokensInput),
        ("tokens_output", nameof(RunRow.TokensOutput), r => r.TokensOutput), ("cost_usd", nameof(RunRow.CostUsd), r => r.CostUsd),
        ("cost_estimated", nameof(RunRow.CostEstimated), r => r.CostEstimated), ("cancel_requested", nameof(RunRow.CancelRequested), r => r.CancelRequested),
        ("lease_owner", nameof(RunRow.LeaseOwner), r => r.LeaseOwner), ("lease_expires_at", nameof(RunRow.LeaseExpiresAt), r => r.LeaseExpiresAt),
        ("updated_at", nameof(RunRow.UpdatedAt), r => r.UpdatedAt),
    ];

    // Always written: a run's row says when it last changed, and an UPDATE needs one column.
    private static readonly int UpdatedAtBit = 1 << Array.FindIndex(Mutable, c => c.Column == "updated_at");

    /// One statement for each set of changed columns met (a handful: a status change, a report of progress…).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> UpdateStatements = new();

    private static string UpdateOf(int changed) =>
        $"UPDATE runs SET {string.Join(", ", Mutable.Where((_, i) => (changed & (1 << i)) != 0).Select(c => $"{c.Column} = @{c.Property}"))}"
        + " WHERE tenant_id = @TenantId AND id = @Id AND status = @ExpectedStatus";

    /// Writes what `updated` changes of `read` (the row as this transaction read and locked it), guarded by the status
    /// read (no row changed: someone else moved it). SQLite rewrites the entries of every index on a column its UPDATE
    /// sets, changed or not: setting every column wrote about 41 KB to the log for a report of a run's context at the 1M
    /// store, setting the one that changed 4 KB (docs/PERFORMANCE.md). `rowChangedSince`: this transaction wrote the row
    /// after reading it (a step's report renews the lease), so every column is written, as read no longer says what it holds.
    public static async Task<bool> UpdateRunAsync(IDbConnection connection, IDbTransaction tx, RunRow read, RunRow updated, bool rowChangedSince = false)
    {
        var changed = UpdatedAtBit;
        for (var i = 0; i < Mutable.Length; i++)
        {
            if (rowChangedSince || !Equals(Mutable[i].Value(read), Mutable[i].Value(updated))) changed |= 1 << i;
        }
        var sql = UpdateStatements.GetOrAdd(changed, UpdateOf);
        return await connection.ExecutePreparedAsync(sql, updated, ("ExpectedStatus", read.Status), tx) == 1;
    }

    // Only what the run lacks: a run is never changed by it, and two updates filling the same field agree or the second
    // was refused first (`RunService.ChangedOnUpdate`).
    private const string FillCreatedWith = """
        UPDATE runs SET workflow_version = COALESCE(workflow_version, @WorkflowVersion), trigger_type = COALESCE(trigger_type, @TriggerType),
            base_run_id = COALESCE(base_run_id, @BaseRunId), layer_hash = COALESCE(layer_hash, @LayerHash),
            trigger_payload = COALESCE(trigger_payload, @TriggerPayload)
        WHERE tenant_id = @TenantId AND id = @Id
        """;

    /// What a run was created without, filled in from an engine's whole record sent as an update.
    public static Task FillCreatedWithAsync(IDbConnection connection, IDbTransaction tx, RunRow run) =>
        connection.ExecutePreparedAsync(FillCreatedWith, run, tx);

    private const string DeleteErrors = "DELETE FROM run_errors WHERE tenant_id = @TenantId AND run_id = @RunId";
    internal const string InsertError = "INSERT INTO run_errors (tenant_id, run_id, seq, topic, error, node) VALUES (@TenantId, @RunId, @Seq, @Topic, @Error, @Node)";

    public static async Task ReplaceErrorsAsync(IDbConnection connection, IDbTransaction tx, RunRow run, IReadOnlyList<ErrorEntry> errors)
    {
        await connection.ExecutePreparedAsync(DeleteErrors, new { run.TenantId, RunId = run.Id }, tx);
        var rows = ErrorRows(run, errors);
        await connection.ExecutePreparedAsync(InsertError, rows, tx);
    }

    /// A run's errors list as the rows it is stored as (and answered as, without a second read).
    public static IReadOnlyList<RunErrorRow> ErrorRows(RunRow run, IReadOnlyList<ErrorEntry> errors) =>
        errors.Select((e, i) => new RunErrorRow { TenantId = run.TenantId, RunId = run.Id, Seq = i, Topic = e.Topic, Error = e.Error, Node = e.Node }).ToList();

    private const string UpsertWorkflow = """
        INSERT INTO workflows (tenant_id, workflow_name, last_seen_at) VALUES (@TenantId, @WorkflowName, @At)
        ON CONFLICT (tenant_id, workflow_name) DO UPDATE SET last_seen_at = excluded.last_seen_at
        """;

    public static Task TouchWorkflowAsync(IDbConnection connection, IDbTransaction tx, string tenantId, string workflowName, string at) =>
        connection.ExecutePreparedAsync(UpsertWorkflow, new { TenantId = tenantId, WorkflowName = workflowName, At = at }, tx);

    private const string InsertStep = """
        INSERT INTO steps (tenant_id, run_id, step_id, seq, skill_id, status, started_at, completed_at, duration_ms,
            cache_hit, attempt, input, output, error_message, error_stack, updated_at,
            input_hash, output_artifact_ids, error_code, error_attempt, error_timestamp, error_details)
        VALUES (@TenantId, @RunId, @StepId, @Seq, @SkillId, @Status, @StartedAt, @CompletedAt, @DurationMs,
            @CacheHit, @Attempt, @Input, @Output, @ErrorMessage, @ErrorStack, @UpdatedAt,
            @InputHash, @OutputArtifactIds, @ErrorCode, @ErrorAttempt, @ErrorTimestamp, @ErrorDetails)
        ON CONFLICT (tenant_id, run_id, step_id) DO UPDATE SET
            seq = excluded.seq, skill_id = excluded.skill_id, status = excluded.status,
            started_at = excluded.started_at, completed_at = excluded.completed_at, duration_ms = excluded.duration_ms,
            cache_hit = excluded.cache_hit, attempt = excluded.attempt, input = excluded.input, output = excluded.output,
            error_message = excluded.error_message, error_stack = excluded.error_stack, updated_at = excluded.updated_at,
            input_hash = excluded.input_hash, output_artifact_ids = excluded.output_artifact_ids, error_code = excluded.error_code,
            error_attempt = excluded.error_attempt, error_timestamp = excluded.error_timestamp, error_details = excluded.error_details
        """;

    public static Task WriteStepsAsync(IDbConnection connection, IDbTransaction tx, IEnumerable<StepRow> steps) =>
        connection.ExecutePreparedAsync(InsertStep, steps, tx);

    private const string NextStepSeq = "SELECT COALESCE(MAX(seq) + 1, 0) FROM steps WHERE tenant_id = @TenantId AND run_id = @RunId";

    public static Task<long> NextStepSeqAsync(IDbConnection connection, IDbTransaction tx, RunRow run) =>
        connection.QuerySingleOrDefaultPreparedAsync<long>(NextStepSeq, new { run.TenantId, RunId = run.Id }, tx);

    private const string RefreshStepCounts = """
        UPDATE runs SET
            steps_total = (SELECT COUNT(*) FROM steps WHERE tenant_id = @TenantId AND run_id = @RunId),
            steps_completed = (SELECT COUNT(*) FROM steps WHERE tenant_id = @TenantId AND run_id = @RunId AND status = 'completed'),
            updated_at = @At
        WHERE tenant_id = @TenantId AND id = @RunId
        """;

    public static Task RefreshStepCountsAsync(IDbConnection connection, IDbTransaction tx, RunRow run, string at) =>
        connection.ExecutePreparedAsync(RefreshStepCounts, new { run.TenantId, RunId = run.Id, At = at }, tx);

    private const string RenewLease = """
        UPDATE runs SET lease_expires_at = @ExpiresAt
        WHERE tenant_id = @TenantId AND id = @Id AND status = 'running' AND lease_owner IS NOT NULL AND lease_seconds IS NOT NULL
        """;

    /// Any write for a leased run moves its lease on by the length the worker asked for when it claimed.
    public static Task RenewLeaseAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset now) =>
        run.LeaseSeconds is { } seconds && run.LeaseOwner is not null
            ? connection.ExecutePreparedAsync(RenewLease, new { run.TenantId, run.Id, ExpiresAt = DbTime.ToDb(now.AddSeconds(seconds)) }, tx)
            : Task.CompletedTask;
}

/// A new run and what its create writes with it (`RunWrites.CreateAsync`): steps and errors named by the run's id, its
/// `created` activity; the workflow is touched at the run's `UpdatedAt`.
public sealed record NewRunRows(RunRow Run, IReadOnlyList<StepRow> Steps, IReadOnlyList<RunErrorRow> Errors, ActivityRow Created);

/// A run's identity in the store: its id within its tenant.
public sealed record RunKey(string TenantId, string Id);

/// One column of a table as the multi-run create passes it: its name, its PostgreSQL type, the values of many rows as
/// one array parameter of that type. The columns of a table are bound one after the other, from the position `Unnest`
/// is given.
internal sealed record ArrayColumn<T>(string Name, string Type, Func<IReadOnlyList<T>, NpgsqlParameter> Values)
{
    public static void AddAll(NpgsqlParameterCollection p, IEnumerable<ArrayColumn<T>> columns, IReadOnlyList<T> rows)
    {
        foreach (var column in columns) p.Add(column.Values(rows));
    }

    /// `unnest($from, $from+1, …) AS alias (name, name)`: the rows of the parameters, by column name.
    public static string Unnest(IReadOnlyList<ArrayColumn<T>> columns, string alias, int from) =>
        $"unnest({string.Join(", ", columns.Select((c, i) => $"${from + i}::{c.Type}[]"))}) AS {alias} ({string.Join(", ", columns.Select(c => c.Name))})";

    public static string Names(IReadOnlyList<ArrayColumn<T>> columns) => string.Join(", ", columns.Select(c => c.Name));
}
