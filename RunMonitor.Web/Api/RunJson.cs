using System.Text.Json;
using System.Text.Json.Serialization;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Api;

public sealed record ErrorJson(string? Message, string? Type, string? Stack, string? Code, string? FailedStepId, DateTimeOffset? Timestamp)
{
    public static ErrorJson? From(RunRow r) => r.HasError
        ? new ErrorJson(r.ErrorMessage, r.ErrorType, r.ErrorStack, r.ErrorCode, r.ErrorFailedStepId, DbTime.FromDb(r.ErrorTimestamp))
        : null;
}

public sealed record ErrorEntryJson(string? Topic, string Error, string? Node);
public sealed record MetricsJson(long? TargetsMatched, long? TargetsProcessed, long? TargetsSkipped, long? InsightsCreated);
public sealed record UsageJson(string? Profile, string? Provider, string? Model, long? TokensInput, long? TokensOutput, double? CostUsd, bool CostEstimated);

/// `GET /api/runs/{id}`: every field SPEC lists, camelCase.
public sealed record RunJson(
    string Id, string TenantId, string WorkflowName, string? Name, string Status, bool DryRun,
    JsonElement? TriggerPayload, JsonElement? Context, ErrorJson? Error, IReadOnlyList<ErrorEntryJson> Errors,
    MetricsJson Metrics, UsageJson Usage, string? LayerHash, string? RetryOf, bool CancelRequested,
    string? LeaseOwner, DateTimeOffset? LeaseExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt, long? DurationMs, long StepsTotal, long StepsCompleted,
    string? WorkflowVersion, string? TriggerType, string? BaseRunId)
{
    public static RunJson From(RunRow r, IReadOnlyList<RunErrorRow> errors) => new(
        r.Id, r.TenantId, r.WorkflowName, r.Name, r.Status, r.IsDryRun,
        Parse(r.TriggerPayload), Parse(r.Context),
        ErrorJson.From(r),
        errors.Select(e => new ErrorEntryJson(e.Topic, e.Error, e.Node)).ToList(),
        new MetricsJson(r.TargetsMatched, r.TargetsProcessed, r.TargetsSkipped, r.InsightsCreated),
        new UsageJson(r.ModelProfile, r.ModelProvider, r.ModelName, r.TokensInput, r.TokensOutput, r.CostUsd, r.IsCostEstimated),
        r.LayerHash, r.RetryOf, r.IsCancelRequested, r.LeaseOwner, DbTime.FromDb(r.LeaseExpiresAt),
        DbTime.Parse(r.CreatedAt), DbTime.FromDb(r.StartedAt), DbTime.FromDb(r.CompletedAt), r.DurationMs,
        r.StepsTotal, r.StepsCompleted, r.WorkflowVersion, r.TriggerType, r.BaseRunId);

    /// Stored JSON goes back out as JSON, not as a string holding JSON.
    public static JsonElement? Parse(string? raw)
    {
        if (raw is null) return null;
        using var doc = JsonDocument.Parse(raw);
        return doc.RootElement.Clone();
    }
}

/// One item of `GET /api/runs` and of the JSON export (`RunRows.SummaryColumns`): the run without its payloads, stack
/// trace and lease; the engines' version, trigger, base run and error code only when the run has them.
public sealed record RunSummaryJson(
    string Id, string TenantId, string WorkflowName, string? Name, string Status, bool DryRun, string? ErrorMessage,
    MetricsJson Metrics, UsageJson Usage, string? RetryOf, bool CancelRequested, DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long? DurationMs, long StepsTotal, long StepsCompleted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WorkflowVersion,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TriggerType,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BaseRunId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ErrorCode)
{
    public static RunSummaryJson From(RunRow r) => new(
        r.Id, r.TenantId, r.WorkflowName, r.Name, r.Status, r.IsDryRun, r.ErrorMessage,
        new MetricsJson(r.TargetsMatched, r.TargetsProcessed, r.TargetsSkipped, r.InsightsCreated),
        new UsageJson(r.ModelProfile, r.ModelProvider, r.ModelName, r.TokensInput, r.TokensOutput, r.CostUsd, r.IsCostEstimated),
        r.RetryOf, r.IsCancelRequested, DbTime.Parse(r.CreatedAt), DbTime.FromDb(r.StartedAt), DbTime.FromDb(r.CompletedAt),
        r.DurationMs, r.StepsTotal, r.StepsCompleted, r.WorkflowVersion, r.TriggerType, r.BaseRunId, r.ErrorCode);
}

/// `total` is exact unless `totalCapped`: then at least that many match (free-text and date filters count up to a cap,
/// and a search window counts only the runs it searched).
/// `searchedNewest`: set when `q` is in so many names that only that many newest runs of the other filters were
/// searched (items and total are theirs, and `totalCapped` is set); null when every run was.
/// `Next`: the `after` token that reads the following page from this one's last run (null on the last page).
/// `Offset`: null for a page asked by a token alone (`after`/`before` without `offset`): a token names a place, not a number.
public sealed record RunListJson(IReadOnlyList<RunSummaryJson> Items, long Total, int? Offset, int Limit, bool TotalCapped, int? SearchedNewest, string? Next);

public sealed record StepErrorJson(string? Message, string? Stack, string? Code, long? Attempt, DateTimeOffset? Timestamp, JsonElement? Details);

public sealed record StepJson(
    string RunId, string StepId, int Index, string? SkillId, string Status, DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt, long? DurationMs, bool CacheHit, long Attempt, JsonElement? Input, JsonElement? Output,
    StepErrorJson? Error, string? InputHash, JsonElement? OutputArtifactIds)
{
    public static StepJson From(StepRow s, int index) => new(
        s.RunId, s.StepId, index, s.SkillId, s.Status, DbTime.FromDb(s.StartedAt), DbTime.FromDb(s.CompletedAt),
        s.DurationMs, s.IsCacheHit, s.Attempt, RunJson.Parse(s.Input), RunJson.Parse(s.Output),
        s.HasError
            ? new StepErrorJson(s.ErrorMessage, s.ErrorStack, s.ErrorCode, s.ErrorAttempt, DbTime.FromDb(s.ErrorTimestamp), RunJson.Parse(s.ErrorDetails))
            : null,
        s.InputHash, RunJson.Parse(s.OutputArtifactIds));
}
