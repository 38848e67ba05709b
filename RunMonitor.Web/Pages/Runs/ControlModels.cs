using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Runs;

/// What an action just did, shown in the actions block with a link to the run it concerns.
public sealed record ActionNotice(string Text, string? RunId = null, string? Href = null);

/// `_RunActions`: the Retry / Retry from failed step / Cancel buttons a run allows, each behind a
/// confirmation dialog. `Scope` keeps element ids unique when the modal opens over the run page.
public sealed record RunActionsModel(RunRow Run, bool HasFailedStep, ActionNotice? Notice = null, string Scope = "modal")
{
    public static RunActionsModel From(RunRow run, IReadOnlyList<StepRow> steps, string scope = "modal") =>
        new(run, steps.Any(s => s.Status == StepStatus.Failed), Scope: scope);

    public bool CanRetry => RunQueue.CanRetry(Run);
    public bool CanRetryFromFailedStep => CanRetry && HasFailedStep;
    /// A finished run that "Retry" does not offer (completed, dry) can still be started again.
    public bool CanRunAgain => RunStatus.IsTerminal(Run.Status) && !CanRetry;
    public bool CanCancel => RunQueue.CanCancel(Run) && !(Run.Status == RunStatus.Running && Run.IsCancelRequested);
    public bool CancelPending => Run.Status == RunStatus.Running && Run.IsCancelRequested;
    public string DialogId(string action) => $"{Scope}-{action}-dialog-{Run.Id}";
}

/// `_RunLive`: a run's status, progress and steps, kept current by SSE with polling as the fallback.
/// `ReloadUrl` + `ReloadTarget`: a view that shows more of the run than this block (the modal)
/// reloads itself from there when the run's status changes (`runStatusChanged`).
public sealed record RunLiveModel(RunRow Run, IReadOnlyList<StepRow> Steps, DateTimeOffset Now)
{
    public bool ShowBadge { get; init; } = true;
    /// The run page draws the steps and their progress once, in its timeline; the modal has none and lists them here.
    public bool ShowSteps { get; init; } = true;
    public string? ReloadUrl { get; init; }
    public string? ReloadTarget { get; init; }
    public string? ReloadSelect { get; init; }

    public bool IsActive => RunStatus.IsActive(Run.Status);
    public long StepsCompleted => Steps.Count == 0 ? Run.StepsCompleted : Steps.Count(s => s.Status == StepStatus.Completed);
    public long StepsTotal => Steps.Count == 0 ? Run.StepsTotal : Steps.Count;
    public StepRow? CurrentStep => Steps.FirstOrDefault(s => s.Status == StepStatus.Running);
}

/// `_EditInput`: the "Edit input" part of a retry dialog, its textarea holding the run's trigger payload.
/// `PayloadUrl`: where the modal (whose run is read without its payloads) loads the payload from when "Edit input"
/// opens; until then its textarea is disabled, so a retry sent without opening it edits nothing.
public sealed record EditInputModel(RunRow Run, string DialogId, string? PayloadUrl = null);
