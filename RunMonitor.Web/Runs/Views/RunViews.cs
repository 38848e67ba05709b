using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// A run view's reads: the run with its errors and steps, and on the run page the runs that retried it.
public sealed record RunView(RunDetail Detail, IReadOnlyList<StepRow> Steps, IReadOnlyList<RunRow> Retries)
{
    /// The run's `baseRunId` names a run of the same tenant (the page links it); read by the run page only.
    public bool BaseRunInTenant { get; init; }
}

/// The run page's reads (`RunViews.GetRunPageAsync`): its view, the run's activity and log panel, and the open step's
/// artifacts and log panel (empty when no step is open).
public sealed record RunPageReads(RunView View, IReadOnlyList<ActivityRow> Activity, LogPage RunLogs, IReadOnlyList<ArtifactRow> StepArtifacts, LogPage StepLogs);

/// The run views' reads: the modal (`/ui/runs/{id}`), the run page (`/runs/{id}`), the step panel and
/// `/api/runs/{id}[/steps]`. Another tenant's run is null, as if it were not there.
public sealed class RunViews(Database database, LogStore logs)
{
    public async Task<RunRow?> GetAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await RunRows.GetAsync(connection, null, tenant, id);
    }

    public async Task<RunDetail?> GetDetailAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var run = await RunRows.GetAsync(connection, null, tenant, id);
        if (run is null) return null;
        return new RunDetail(run, await RunRows.GetErrorsAsync(connection, null, run));
    }

    public async Task<IReadOnlyList<StepRow>> GetStepsAsync(RunRow run, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await RunRows.GetStepsAsync(connection, null, run);
    }

    // The modal shows no step payloads or stacks: only what its progress and actions read.
    private const string SelectStepSummaries = """
        SELECT tenant_id AS TenantId, run_id AS RunId, step_id AS StepId, seq AS Seq, skill_id AS SkillId, status AS Status,
               started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs, cache_hit AS CacheHit,
               attempt AS Attempt, updated_at AS UpdatedAt
        FROM steps WHERE tenant_id = @Tenant AND run_id = @RunId ORDER BY seq, step_id
        """;

    // Nor the run's payloads (they can be hundreds of KB), lease or retry columns: the modal does not show them.
    private const string SelectModalRun = """
        SELECT id AS Id, tenant_id AS TenantId, workflow_name AS WorkflowName, name AS Name, status AS Status,
               dry_run AS DryRun, error_message AS ErrorMessage, error_type AS ErrorType, error_stack AS ErrorStack, error_code AS ErrorCode,
               created_at AS CreatedAt, started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs,
               targets_matched AS TargetsMatched, targets_processed AS TargetsProcessed, targets_skipped AS TargetsSkipped,
               insights_created AS InsightsCreated, model_profile AS ModelProfile, model_provider AS ModelProvider,
               model_name AS ModelName, tokens_input AS TokensInput, tokens_output AS TokensOutput, cost_usd AS CostUsd,
               cost_estimated AS CostEstimated, layer_hash AS LayerHash, cancel_requested AS CancelRequested,
               steps_total AS StepsTotal, steps_completed AS StepsCompleted
        FROM runs WHERE tenant_id = @Tenant AND id = @Id
        """;

    // One batch per view: one connection, and one round trip on PostgreSQL, instead of one of each per query.
    private const string SelectModalView = $"{SelectModalRun};\n{RunRows.SelectErrors};\n{SelectStepSummaries}";
    // The page links each retry with its status and time: three columns, not the list's 26 (compiling each costs).
    // A retry is made in its run's tenant: the retries of a run are the runs of that tenant naming it.
    private const string SelectRetryLinks = "SELECT id AS Id, status AS Status, created_at AS CreatedAt FROM runs WHERE retry_of = @Id AND tenant_id = @Tenant ORDER BY created_at, id";
    // An update run's base run is linked only where it is there to open: two lookups by key.
    private const string SelectBaseRunInTenant = """
        SELECT COUNT(*) FROM runs r JOIN runs b ON b.tenant_id = r.tenant_id AND b.id = r.base_run_id WHERE r.tenant_id = @Tenant AND r.id = @Id
        """;
    private const string SelectPageView = $"{RunRows.SelectRun};\n{RunRows.SelectErrors};\n{RunRows.SelectSteps};\n{SelectRetryLinks};\n{SelectBaseRunInTenant}";

    /// The detail modal's reads: the run and its steps without their payloads, and its errors. Another tenant's run is null.
    public Task<RunView?> GetModalViewAsync(string? tenant, string id, CancellationToken ct = default) =>
        GetViewAsync(SelectModalView, tenant, id, retries: false, ct);

    /// The run page's reads: the run, its errors, its whole steps and the runs that retried it (id, status and
    /// creation time: what the page shows of them). Another tenant's run is null.
    public Task<RunView?> GetPageViewAsync(string? tenant, string id, CancellationToken ct = default) =>
        GetViewAsync(SelectPageView, tenant, id, retries: true, ct);

    // A super admin who named no tenant: the batch asks first which tenants hold the id, and reads the rest in the one
    // holding it (the same round trip; `RunRows.OneTenantOf` reads the answer as `TenantOfAsync` does).
    private const string TenantOfId = "(SELECT MIN(tenant_id) FROM runs WHERE id = @Id)";
    private static readonly string SelectModalViewAnyTenant = $"{RunRows.SelectTenantsOfId};\n" + SelectModalView.Replace("@Tenant", TenantOfId);
    private static readonly string SelectPageViewAnyTenant = $"{RunRows.SelectTenantsOfId};\n" + SelectPageView.Replace("@Tenant", TenantOfId);

    private async Task<RunView?> GetViewAsync(string sql, string? tenant, string id, bool retries, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var anyTenant = tenant is null;
        if (anyTenant) sql = retries ? SelectPageViewAnyTenant : SelectModalViewAnyTenant;
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(sql, new { Id = id, RunId = id, Tenant = tenant }, cancellationToken: ct));
        return await ReadViewAsync(results, anyTenant, id, retries);
    }

    private static async Task<RunView?> ReadViewAsync(SqlMapper.GridReader results, bool anyTenant, string id, bool retries)
    {
        if (anyTenant && RunRows.OneTenantOf(id, (await results.ReadAsync<string>()).AsList()) is null) return null;
        var run = await results.ReadSingleOrDefaultAsync<RunRow>();
        if (run is null) return null;
        var errors = (await results.ReadAsync<RunErrorRow>()).AsList();
        var steps = (await results.ReadAsync<StepRow>()).AsList();
        var retriedBy = retries ? (await results.ReadAsync<RunRow>()).AsList() : [];
        var baseRunInTenant = retries && await results.ReadSingleAsync<long>() > 0;
        return new RunView(new RunDetail(run, errors), steps, retriedBy) { BaseRunInTenant = baseRunInTenant };
    }

    // The run page's batch's values: the view's names, the log panels' (one filter), and the open step's.
    private sealed record PageParameters : LogParameters
    {
        public PageParameters(LogParameters logs) : base(logs) { }
        public string? Tenant => TenantId;
        public string RunId => Id;
        public string FailedStep => StepStatus.Failed;
    }

    // The step the run page opens: the one asked for, else the run's first failed step in the steps' order (the page
    // picks it from the steps it read by the same rule).
    private const string OpenStep =
        "COALESCE(@Step, (SELECT step_id FROM steps WHERE tenant_id = @TenantId AND run_id = @RunId AND status = @FailedStep ORDER BY seq, step_id LIMIT 1))";

    /// The run page's reads in one batch, so one round trip on PostgreSQL whatever the page shows: the view
    /// (`GetPageViewAsync`), the run's activity, the run's log panel, and the open step's artifacts and log panel (the
    /// step `step`, or without it the run's first failed step). `runLogs` and `stepLogs` filter the two panels; one of
    /// them at most may be filtered (the page's form filters one). Another tenant's run is null.
    public async Task<RunPageReads?> GetRunPageAsync(string? tenant, string id, string? step, LogFilter runLogs, LogFilter stepLogs, CancellationToken ct = default)
    {
        var anyTenant = tenant is null;
        if (stepLogs.NarrowsLines && runLogs.NarrowsLines)
            throw new ArgumentException("the page filters one log panel, not both", nameof(stepLogs));
        var p = new PageParameters(LogStore.PanelParameters(tenant, id, stepLogs.NarrowsLines ? stepLogs : runLogs)) { Step = step };
        var more = string.Join(";\n",
            ActivityLog.SelectForRun,
            logs.PanelStatements(runLogs, null),
            ArtifactStore.SelectForStep.Replace("@StepId", OpenStep, StringComparison.Ordinal),
            logs.PanelStatements(stepLogs, OpenStep));
        // A super admin without `tenant`: the tenant holding the id, as the view's own statements read it.
        var sql = anyTenant ? SelectPageViewAnyTenant + ";\n" + more.Replace("@TenantId", TenantOfId, StringComparison.Ordinal) : SelectPageView + ";\n" + more;
        await using var connection = await database.OpenAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(sql, p, cancellationToken: ct));
        var view = await ReadViewAsync(results, anyTenant, id, retries: true);
        if (view is null) return null;
        var activity = (await results.ReadAsync<ActivityRow>()).AsList();
        var runPage = await LogStore.ReadPageAsync(results, runLogs);
        var artifacts = (await results.ReadAsync<ArtifactRow>()).AsList();
        var stepPage = await LogStore.ReadPageAsync(results, stepLogs, step: true);
        return new RunPageReads(view, activity, runPage, artifacts, stepPage);
    }

    public async Task<StepRow?> GetStepAsync(RunRow run, string stepId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await RunRows.GetStepAsync(connection, null, run, stepId);
    }

    private const string SelectRetries = $"SELECT {RunRows.ListColumns} FROM runs WHERE retry_of = @Id AND tenant_id = @Tenant ORDER BY created_at, id";

    /// Later runs whose `retry_of` is this run, oldest first (in its tenant, where retries are made).
    public async Task<IReadOnlyList<RunRow>> RetriesAsync(RunRow run, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<RunRow>(SelectRetries, new { run.Id, Tenant = run.TenantId })).ToList();
    }
}
