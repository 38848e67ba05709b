using System.Data;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// The columns of a run, its steps and errors, and their reads by key: the vocabulary every room shares. A run is
/// its tenant and its id (the same id may name a run in each of two tenants); a null tenant is the super admin's
/// all-tenant view.
public static class RunRows
{
    public const string RunColumns = """
        id AS Id, tenant_id AS TenantId, workflow_name AS WorkflowName, name AS Name, status AS Status,
        dry_run AS DryRun, trigger_payload AS TriggerPayload, context AS Context,
        error_message AS ErrorMessage, error_type AS ErrorType, error_stack AS ErrorStack,
        created_at AS CreatedAt, started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs,
        targets_matched AS TargetsMatched, targets_processed AS TargetsProcessed, targets_skipped AS TargetsSkipped,
        insights_created AS InsightsCreated, model_profile AS ModelProfile, model_provider AS ModelProvider,
        model_name AS ModelName, tokens_input AS TokensInput, tokens_output AS TokensOutput, cost_usd AS CostUsd,
        cost_estimated AS CostEstimated, layer_hash AS LayerHash, retry_of AS RetryOf,
        cancel_requested AS CancelRequested, lease_owner AS LeaseOwner, lease_expires_at AS LeaseExpiresAt,
        lease_seconds AS LeaseSeconds, steps_total AS StepsTotal, steps_completed AS StepsCompleted, updated_at AS UpdatedAt,
        workflow_version AS WorkflowVersion, trigger_type AS TriggerType, base_run_id AS BaseRunId, error_code AS ErrorCode,
        error_failed_step_id AS ErrorFailedStepId, error_timestamp AS ErrorTimestamp
        """;

    // A list's row never needs the large JSON and stack columns; its error message each list reads as far as it shows it.
    private const string RowColumns = """
        pk AS Pk, id AS Id, tenant_id AS TenantId, workflow_name AS WorkflowName, name AS Name, status AS Status,
        dry_run AS DryRun, error_type AS ErrorType,
        created_at AS CreatedAt, started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs,
        targets_matched AS TargetsMatched, targets_processed AS TargetsProcessed, targets_skipped AS TargetsSkipped,
        insights_created AS InsightsCreated, model_name AS ModelName, tokens_input AS TokensInput,
        tokens_output AS TokensOutput, cost_usd AS CostUsd, cost_estimated AS CostEstimated, retry_of AS RetryOf,
        cancel_requested AS CancelRequested, steps_total AS StepsTotal, steps_completed AS StepsCompleted,
        updated_at AS UpdatedAt
        """;

    /// The run table's row reads this many characters of its error message at most (a message may be a megabyte): the
    /// row shows the first line cut shorter and these in its title. The SQL reads one more, so the title knows it was cut.
    public const int ListErrorLength = 500;

    /// The run table's row (also the recent runs' and a run's retries'): its error's code beside its message's first
    /// ListErrorLength characters.
    public const string ListColumns = $"{RowColumns}, error_code AS ErrorCode, substr(error_message, 1, 501) AS ErrorMessage";

    /// An item of `/api/runs` and a row of the exports: the whole error message, which they hand on as it was written,
    /// and every other short field their items carry (the model's profile and provider, the engines' version, trigger,
    /// base run and error code), read here so that none of them answers null for a value the run has.
    public const string SummaryColumns = $"""
        {RowColumns}, error_message AS ErrorMessage, model_profile AS ModelProfile, model_provider AS ModelProvider,
        workflow_version AS WorkflowVersion, trigger_type AS TriggerType, base_run_id AS BaseRunId, error_code AS ErrorCode
        """;

    public const string StepColumns = """
        tenant_id AS TenantId, run_id AS RunId, step_id AS StepId, seq AS Seq, skill_id AS SkillId, status AS Status,
        started_at AS StartedAt, completed_at AS CompletedAt, duration_ms AS DurationMs, cache_hit AS CacheHit,
        attempt AS Attempt, input AS Input, output AS Output, error_message AS ErrorMessage,
        error_stack AS ErrorStack, updated_at AS UpdatedAt, input_hash AS InputHash, output_artifact_ids AS OutputArtifactIds,
        error_code AS ErrorCode, error_attempt AS ErrorAttempt, error_timestamp AS ErrorTimestamp, error_details AS ErrorDetails
        """;

    public const string SelectRun = $"SELECT {RunColumns} FROM runs WHERE tenant_id = @Tenant AND id = @Id";

    /// `tenant` is the caller's tenant, or null for a super admin who named none: the id is then looked for in every
    /// tenant, and one held by several throws AmbiguousRunIdException (answered 409 naming them). `select`: SelectRun,
    /// or inside a write SelectRun with the dialect's locking suffix (`RunWrites.GetAsync`).
    public static async Task<RunRow?> GetAsync(IDbConnection connection, IDbTransaction? tx, string? tenant, string id, string select = SelectRun)
    {
        if ((tenant ?? await TenantOfAsync(connection, tx, id)) is not { } owner) return null;
        return await connection.QuerySingleOrDefaultPreparedAsync<RunRow>(select, new { Tenant = owner, Id = id }, tx);
    }

    public const string SelectTenantsOfId = "SELECT tenant_id FROM runs WHERE id = @Id ORDER BY tenant_id LIMIT 10";

    /// The one tenant holding a run with this id; null when none does.
    public static async Task<string?> TenantOfAsync(IDbConnection connection, IDbTransaction? tx, string id)
    {
        var tenants = (await connection.QueryAsync<string>(SelectTenantsOfId, new { Id = id }, tx)).AsList();
        return OneTenantOf(id, tenants);
    }

    /// The one tenant of SelectTenantsOfId's answer; null when none holds the id, AmbiguousRunIdException when several do.
    public static string? OneTenantOf(string id, List<string> tenants) => tenants.Count switch
    {
        0 => null,
        1 => tenants[0],
        _ => throw new AmbiguousRunIdException(id, tenants),
    };

    public const string SelectErrors = """
        SELECT tenant_id AS TenantId, run_id AS RunId, seq AS Seq, topic AS Topic, error AS Error, node AS Node
        FROM run_errors WHERE tenant_id = @Tenant AND run_id = @RunId ORDER BY seq
        """;

    public static async Task<IReadOnlyList<RunErrorRow>> GetErrorsAsync(IDbConnection connection, IDbTransaction? tx, RunRow run) =>
        (await connection.QueryAsync<RunErrorRow>(SelectErrors, new { Tenant = run.TenantId, RunId = run.Id }, tx)).ToList();

    public const string SelectSteps = $"SELECT {StepColumns} FROM steps WHERE tenant_id = @Tenant AND run_id = @RunId ORDER BY seq, step_id";

    public static async Task<IReadOnlyList<StepRow>> GetStepsAsync(IDbConnection connection, IDbTransaction? tx, RunRow run) =>
        (await connection.QueryAsync<StepRow>(SelectSteps, new { Tenant = run.TenantId, RunId = run.Id }, tx)).ToList();

    private const string SelectStep = $"SELECT {StepColumns} FROM steps WHERE tenant_id = @TenantId AND run_id = @RunId AND step_id = @StepId";

    public static Task<StepRow?> GetStepAsync(IDbConnection connection, IDbTransaction? tx, RunRow run, string stepId) =>
        connection.QuerySingleOrDefaultPreparedAsync<StepRow>(SelectStep, new { run.TenantId, RunId = run.Id, StepId = stepId }, tx);
}
