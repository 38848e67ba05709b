using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Runs;

public sealed record RunsTableModel(RunPage Page, bool ShowTenant, DateTimeOffset Now)
{
    public RunFilter Filter => Page.Filter;
    /// Rows carry a checkbox for the bulk actions (issue 15): operators and admins only.
    public bool CanSelect { get; init; }
    public bool AnyActive => Page.Items.Any(r => RunStatus.IsActive(r.Status));
    public long First => Page.Items.Count == 0 ? 0 : Filter.Offset + 1;
    public long Last => Filter.Offset + Page.Items.Count;
    public bool HasPrevious => Filter.Offset > 0;
    public bool HasNext => Page.HasMoreAfter(Filter.Offset, Filter.Limit);
    public int PreviousOffset => Math.Max(0, Filter.Offset - Filter.Limit);
    public int NextOffset => Filter.Offset + Filter.Limit;

    /// What the page's status line says of this list (read out only when it changes, not at every poll).
    public string Summary => Page.Items.Count == 0
        ? "No runs found."
        : $"Runs {First}-{Last} of {Format.Count(Page.Total)}{(Page.TotalCapped ? "+" : "")}";

    /// Next reads on from the page's last run (an index seek however deep); Previous back from its first, except to
    /// the first page, which is read from the top so that it shows the newest runs.
    public RunCursor? NextCursor => Page.Items.Count == 0 ? null : RunCursor.From(Page.Items[^1], Filter, before: false);
    public RunCursor? PreviousCursor => Page.Items.Count == 0 || PreviousOffset == 0 ? null : RunCursor.From(Page.Items[0], Filter, before: true);
}

public sealed record StatsCardsModel(RunStats Stats, StatsPeriod Period, string? TenantParam, DateTimeOffset Now)
{
    public bool AnyActive => Stats.QueuedNow + Stats.RunningNow > 0;
}

public sealed record RunDetailModel(RunDetail Detail, DateTimeOffset Now)
{
    public RunRow Run => Detail.Run;
    public IReadOnlyList<StepRow> Steps { get; init; } = [];
    /// Previous/next in the list the run was opened from (`?list=&at=`), when it was.
    public RunMonitor.Web.SavedViews.RunWalkModel? Walk { get; init; }
}

/// `SharedIds`: ids also held by another tenant's run (for a super admin, whose links then name the tenant).
public sealed record RecentRunsModel(IReadOnlyList<RunRow> Runs, DateTimeOffset Now, IReadOnlySet<string> SharedIds);
