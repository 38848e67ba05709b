using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Runs;

/// One bar of the waterfall: where the step starts and how long it took, both in ms from the first start.
public sealed record StepBar(StepRow Step, long? OffsetMs, long? DurationMs, bool Slowest);

/// The `_StepTimeline` partial: the steps in plan order as a chain, a progress bar and a waterfall.
public sealed record StepTimelineModel(RunRow Run, IReadOnlyList<StepRow> Steps, string? SelectedStepId, DateTimeOffset Now)
{
    public const int TrackWidth = 1000;

    public long Completed => Steps.Count(s => s.Status == StepStatus.Completed);

    public int PercentDone => Steps.Count == 0 ? 0 : (int)Math.Round(100d * Completed / Steps.Count);

    public bool Live => RunStatus.IsActive(Run.Status);

    public static string Icon(string status) => status switch
    {
        StepStatus.Completed => "✓",
        StepStatus.Running => "●",
        StepStatus.Failed => "✗",
        StepStatus.Skipped => "↷",
        StepStatus.Cancelled => "⊘",
        _ => "○",
    };

    /// The same icons drawn (SVG paths in a 14 px box): a glyph alone in HTML is text whose contrast axe cannot judge.
    public static Microsoft.AspNetCore.Html.HtmlString IconSvg(string status) => new(status switch
    {
        StepStatus.Completed => """<path d="M3 7.4l2.6 2.6L11 4.4" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>""",
        StepStatus.Running => """<circle cx="7" cy="7" r="4" fill="currentColor"/>""",
        StepStatus.Failed => """<path d="M4 4l6 6M10 4l-6 6" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>""",
        StepStatus.Skipped => """<path d="M2.5 9.5a4.5 4.5 0 0 1 8.2-3.6M11.5 2.5v3.6H7.9" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>""",
        StepStatus.Cancelled => """<circle cx="7" cy="7" r="4.6" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M3.8 10.2l6.4-6.4" stroke="currentColor" stroke-width="1.6"/>""",
        _ => """<circle cx="7" cy="7" r="4.2" fill="none" stroke="currentColor" stroke-width="1.6"/>""",
    });

    /// Duration as the story prints it under each step: `1.2s`, or the state while there is none.
    public string DurationText(StepRow step) => step.DurationMs is { } ms
        ? Format.Duration(ms)
        : step.Status == StepStatus.Running && DbTime.FromDb(step.StartedAt) is { } started
            ? Format.Duration((long)(Now - started).TotalMilliseconds) + "…"
            : step.Status;

    /// Bars placed by their start times where reported, else laid end to end; the longest finished one is marked.
    public IReadOnlyList<StepBar> Bars()
    {
        var starts = Steps.Select(s => DbTime.FromDb(s.StartedAt)).ToList();
        var origin = starts.Where(s => s is not null).Min() ?? DbTime.FromDb(Run.StartedAt);
        var bars = new List<StepBar>();
        long cursor = 0;
        for (var i = 0; i < Steps.Count; i++)
        {
            var step = Steps[i];
            var duration = step.DurationMs;
            if (duration is null && step.Status == StepStatus.Running && starts[i] is { } runningSince)
                duration = Math.Max(0, (long)(Now - runningSince).TotalMilliseconds);
            long? offset = starts[i] is { } start && origin is { } o ? Math.Max(0, (long)(start - o).TotalMilliseconds)
                : duration is not null ? cursor : null;
            if (offset is { } off && duration is { } d) cursor = Math.Max(cursor, off + d);
            bars.Add(new StepBar(step, offset, duration, false));
        }
        // A running step's time still grows: "slowest" compares finished steps only, and needs two of them.
        var timed = bars.Where(b => b.DurationMs > 0 && b.Step.Status is not (StepStatus.Running or StepStatus.Pending)).ToList();
        if (timed.Count >= 2)
        {
            var slowest = timed.MaxBy(b => b.DurationMs)!;
            bars[bars.IndexOf(slowest)] = slowest with { Slowest = true };
        }
        return bars;
    }

    public static long Span(IReadOnlyList<StepBar> bars) =>
        Math.Max(1, bars.Select(b => (b.OffsetMs ?? 0) + (b.DurationMs ?? 0)).DefaultIfEmpty(0).Max());
}

/// The `_StepPanel` partial: one step with its input, output, error and artifacts.
public sealed record StepPanelModel(RunRow Run, StepRow Step, IReadOnlyList<ArtifactRow> Artifacts, DateTimeOffset Now)
{
    /// What the step printed.
    public LogPanelModel? Logs { get; init; }
}

/// The run page: the run, its steps and errors, the runs that retried it, and the open step if any.
public sealed record RunPageModel(
    RunDetail Detail, IReadOnlyList<StepRow> Steps, IReadOnlyList<RunRow> Retries, StepPanelModel? Panel, string? MissingStepId, DateTimeOffset Now)
{
    public bool BaseRunInTenant { get; init; }
    /// Previous/next in the list the run was opened from (`?list=&at=`), when it was.
    public RunMonitor.Web.SavedViews.RunWalkModel? Walk { get; init; }
    /// Who did what to the run, oldest first (issue 15).
    public IReadOnlyList<ActivityRow> Activity { get; init; } = [];
    /// What the run printed, every step's lines.
    public LogPanelModel? Logs { get; init; }

    public RunRow Run => Detail.Run;

    public StepTimelineModel Timeline => new(Run, Steps, Panel?.Step.StepId, Now);
}

/// The `_ErrorDisplay` partial: an error's message, type and stack trace (kept as written), with a copy button.
/// `Code` is shown beside the message (omeercs's error codes).
public sealed record ErrorView(string DomId, string? Message, string? Type, string? Stack, string? Code = null)
{
    public bool Any => Message is not null || Type is not null || Stack is not null || Code is not null;

    /// The failed step this error also is (its panel then points here instead of repeating it), and that step's own stack.
    public string? StepId { get; init; }
    public string? StepUrl { get; init; }
    public string? StepStack { get; init; }

    /// A failed step whose message is the run's: one error, told once.
    public static bool IsSame(RunRow run, StepRow step) =>
        step.Status == StepStatus.Failed && step.ErrorMessage is not null && step.ErrorMessage == run.ErrorMessage;
}

public static class DomIds
{
    /// A DOM id from free text (step ids may hold `.` and `:`, which CSS selectors would misread).
    public static string For(string prefix, string text) =>
        prefix + "-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..10];
}
