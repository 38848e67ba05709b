namespace RunMonitor.Web.Runs;

/// A run's error: Zos's message, type and stack; omeercs adds a code, the step that failed and when.
public sealed record RunErrorInfo(string? Message, string? Type, string? Stack, string? Code = null, string? FailedStepId = null, DateTimeOffset? Timestamp = null);

/// One entry of a run's errors list; Zos leaves topic and node null for a failure of the whole layer.
public sealed record ErrorEntry(string? Topic, string Error, string? Node);

public sealed record RunMetrics(long? TargetsMatched, long? TargetsProcessed, long? TargetsSkipped, long? InsightsCreated);

public sealed record RunUsage(string? Profile, string? Provider, string? Model, long? TokensInput, long? TokensOutput, double? CostUsd);

public sealed record PlannedStep(string StepId, string? SkillId);

/// A step given whole inside a run's record (an older omeercs `Run` sent with its `steps` relation, each a `RunStep`
/// entity): reported as a step PUT is, in the run's own write. `Index` is its place in the record's `steps`, which a
/// refusal names (`steps[2].status`).
public sealed record StepRecord(int Index, string StepId, StepUpsert Step);

/// The fields a write gives as JSON null, where that differs from leaving them out: null clears them (a JSON merge
/// patch's rule). A run's or a step's times and duration are not here: engines' records say null there until they know.
[Flags]
public enum Cleared
{
    None = 0,
    Context = 1 << 0,
    TargetsMatched = 1 << 1, TargetsProcessed = 1 << 2, TargetsSkipped = 1 << 3, InsightsCreated = 1 << 4,
    Metrics = TargetsMatched | TargetsProcessed | TargetsSkipped | InsightsCreated,
    Profile = 1 << 5, Provider = 1 << 6, Model = 1 << 7, TokensInput = 1 << 8, TokensOutput = 1 << 9,
    /// The engine reports no cost: it is estimated from the tokens.
    CostUsd = 1 << 10,
    Usage = Profile | Provider | Model | TokensInput | TokensOutput | CostUsd,
    SkillId = 1 << 11, Input = 1 << 12, Output = 1 << 13, InputHash = 1 << 14, OutputArtifactIds = 1 << 15,
}

/// The fields an engine may change on a run (PATCH, and the tail of POST). Null means "not given"; `Cleared` names those
/// given as JSON null.
public sealed record RunPatch
{
    public string? Status { get; init; }
    /// `Status` (running) was read from Zos's placeholder row: `dry` with its end given as null (`IngestParser.ReadPatch`).
    public bool Placeholder { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public bool ErrorGiven { get; init; }
    public RunErrorInfo? Error { get; init; }
    public IReadOnlyList<ErrorEntry>? Errors { get; init; }
    public RunMetrics? Metrics { get; init; }
    public RunUsage? Usage { get; init; }
    public string? Context { get; init; }
    /// The engine's own measure (omeercs keeps one); without it a run's duration comes from its start and end.
    public long? DurationMs { get; init; }
    public Cleared Cleared { get; init; }
    /// What a run was created with, repeated by an engine that sends its whole record as an update (omeercs its entity,
    /// Zos its row): each must be what is stored, as an update cannot change it, or fills in what the run was created
    /// without (`RunService.ChangedOnUpdate`, `FilledOnUpdate`).
    public IReadOnlyList<RepeatedField> Repeated { get; init; } = [];
    /// The steps an update carries (`steps`, as an older omeercs entity holds them), each reported as by its PUT.
    public IReadOnlyList<StepRecord> Steps { get; init; } = [];
}

/// One create-only field an update repeats, by the name it was given (`workflowName`, Zos's `layer_name`, …); a JSON
/// value (`triggerPayload`) as it was sent.
public sealed record RepeatedField(string Field, string Value);

public sealed record NewRun
{
    public string? Id { get; init; }
    public string? TenantId { get; init; }
    public required string WorkflowName { get; init; }
    public string? Name { get; init; }
    public bool DryRun { get; init; }
    public string? TriggerPayload { get; init; }
    public string? LayerHash { get; init; }
    public string? WorkflowVersion { get; init; }
    public string? TriggerType { get; init; }
    public string? BaseRunId { get; init; }
    public IReadOnlyList<PlannedStep> Steps { get; init; } = [];
    /// The planned steps given with more than their ids (a status, times, output…), as reported after the create.
    public IReadOnlyList<StepRecord> StepRecords { get; init; } = [];
    public DateTimeOffset? CreatedAt { get; init; }
    public RunPatch Patch { get; init; } = new();
}

/// A step report (PUT): every field optional; what is given replaces what was there, and `Cleared` names those given as
/// JSON null.
public sealed record StepUpsert
{
    /// The tenant an omeercs RunStep names: checked against its run's, never a way into another tenant.
    public string? TenantId { get; init; }
    public string? SkillId { get; init; }
    public string? Status { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    /// The name the end was given by (`completedAt`, or omeercs's `endedAt`): what a refusal of it names.
    public string EndField { get; init; } = "completedAt";
    public long? DurationMs { get; init; }
    public bool? CacheHit { get; init; }
    public long? Attempt { get; init; }
    public string? Input { get; init; }
    public string? Output { get; init; }
    public string? InputHash { get; init; }
    /// A JSON array of strings, as stored.
    public string? OutputArtifactIds { get; init; }
    public bool ErrorGiven { get; init; }
    public string? ErrorMessage { get; init; }
    public string? ErrorStack { get; init; }
    public string? ErrorCode { get; init; }
    public long? ErrorAttempt { get; init; }
    public DateTimeOffset? ErrorTimestamp { get; init; }
    /// A JSON object, as stored.
    public string? ErrorDetails { get; init; }
    public Cleared Cleared { get; init; }
}

public enum WriteOutcome { Ok, Created, NotFound, Conflict, Forbidden, Invalid }

/// `Field` names the request field an `Invalid` outcome is about (the 400's key).
public sealed record WriteResult<T>(WriteOutcome Outcome, T? Value = default, string? Reason = null, string? Field = null)
{
    public static WriteResult<T> Invalid(string field, string reason) => new(WriteOutcome.Invalid, Reason: reason, Field: field);
    public static WriteResult<T> NotFound() => new(WriteOutcome.NotFound, Reason: "Run not found");
    public static WriteResult<T> Conflict(string reason) => new(WriteOutcome.Conflict, Reason: reason);
    public static WriteResult<T> Forbidden(string reason) => new(WriteOutcome.Forbidden, Reason: reason);
}
