namespace RunMonitor.Web.Runs;

/// One row of `runs`, as stored: SQLite-native types, timestamps as UTC ISO-8601 text.
public sealed record RunRow
{
    /// The store's own key: the last column of every sort, so a list cursor names one place exactly.
    public long Pk { get; init; }
    public string Id { get; init; } = "";
    public string TenantId { get; init; } = "";
    public string WorkflowName { get; init; } = "";
    public string? Name { get; init; }
    public string Status { get; init; } = RunStatus.Queued;
    public long DryRun { get; init; }
    public string? TriggerPayload { get; init; }
    public string? Context { get; init; }
    public string? ErrorMessage { get; init; }
    public string? ErrorType { get; init; }
    public string? ErrorStack { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorFailedStepId { get; init; }
    public string? ErrorTimestamp { get; init; }
    public string CreatedAt { get; init; } = "";
    public string? StartedAt { get; init; }
    public string? CompletedAt { get; init; }
    public long? DurationMs { get; init; }
    public long? TargetsMatched { get; init; }
    public long? TargetsProcessed { get; init; }
    public long? TargetsSkipped { get; init; }
    public long? InsightsCreated { get; init; }
    public string? ModelProfile { get; init; }
    public string? ModelProvider { get; init; }
    public string? ModelName { get; init; }
    public long? TokensInput { get; init; }
    public long? TokensOutput { get; init; }
    public double? CostUsd { get; init; }
    public long CostEstimated { get; init; }
    public string? LayerHash { get; init; }
    public string? WorkflowVersion { get; init; }
    public string? TriggerType { get; init; }
    public string? BaseRunId { get; init; }
    public string? RetryOf { get; init; }
    public long CancelRequested { get; init; }
    public string? LeaseOwner { get; init; }
    public string? LeaseExpiresAt { get; init; }
    public long? LeaseSeconds { get; init; }
    public long StepsTotal { get; init; }
    public long StepsCompleted { get; init; }
    public string UpdatedAt { get; init; } = "";

    /// Any field of the run's error object is set (`error` in the API is null otherwise).
    public bool HasError => ErrorMessage is not null || ErrorType is not null || ErrorStack is not null || ErrorCode is not null
                            || ErrorFailedStepId is not null || ErrorTimestamp is not null;
    /// Ended unsuccessfully with no error message, type or code to say why (a Zos run reports only its `errors` list):
    /// the run table shows its first listed error instead (`RunPage.FirstListedErrorOf`).
    public bool EndedWithoutErrorText => RunStatus.Unsuccessful.Contains(Status) && string.IsNullOrWhiteSpace(ErrorMessage)
                                         && ErrorType is null && ErrorCode is null;
    public bool IsDryRun => DryRun != 0;
    public bool IsCancelRequested => CancelRequested != 0;
    public bool IsCostEstimated => CostEstimated != 0;
    public long? TokensTotal => TokensInput is null && TokensOutput is null ? null : (TokensInput ?? 0) + (TokensOutput ?? 0);
    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? WorkflowName : Name!;
}

/// One entry of a run's errors list (the story's `errors`: topic, error, node).
public sealed record RunErrorRow
{
    public string TenantId { get; init; } = "";
    public string RunId { get; init; } = "";
    public long Seq { get; init; }
    public string? Topic { get; init; }
    public string Error { get; init; } = "";
    public string? Node { get; init; }
}

/// One row of `steps`: a unit of a run, in plan order by `Seq`.
public sealed record StepRow
{
    public string TenantId { get; init; } = "";
    public string RunId { get; init; } = "";
    public string StepId { get; init; } = "";
    public long Seq { get; init; }
    public string? SkillId { get; init; }
    public string Status { get; init; } = StepStatus.Pending;
    public string? StartedAt { get; init; }
    public string? CompletedAt { get; init; }
    public long? DurationMs { get; init; }
    public long CacheHit { get; init; }
    public long Attempt { get; init; } = 1;
    public string? Input { get; init; }
    public string? Output { get; init; }
    public string? ErrorMessage { get; init; }
    public string? ErrorStack { get; init; }
    public string? InputHash { get; init; }
    public string? OutputArtifactIds { get; init; }
    public string? ErrorCode { get; init; }
    public long? ErrorAttempt { get; init; }
    public string? ErrorTimestamp { get; init; }
    public string? ErrorDetails { get; init; }
    public string UpdatedAt { get; init; } = "";

    public bool IsCacheHit => CacheHit != 0;
    /// Any field of the step's error object is set (`error` in the API is null otherwise; the panel shows it).
    public bool HasError => ErrorMessage is not null || ErrorStack is not null || ErrorCode is not null || ErrorDetails is not null
                            || ErrorAttempt is not null || ErrorTimestamp is not null;
}

/// A run with what its detail views need beside the row.
public sealed record RunDetail(RunRow Run, IReadOnlyList<RunErrorRow> Errors);
