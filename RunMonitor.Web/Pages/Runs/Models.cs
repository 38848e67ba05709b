using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Runs;

public sealed record RunsTableModel(RunPage Page, bool ShowTenant, DateTimeOffset Now)
{
    public RunFilter Filter => Page.Filter;
    /// Rows carry a checkbox for the bulk actions (issue 15): operators and admins only.
    public bool CanSelect { get; init; }
    public bool AnyActive => Page.Items.Any(r => RunStatus.IsActive(r.Status));

    /// How often the table polls itself (an `hx-trigger`), null when it keeps still: every 5 s while a run it shows is
    /// queued or running (the story's REQ16); otherwise every 30 s on the list's first page, so a dashboard left open on a
    /// quiet list (or on failures only) still shows the runs that arrive. A deeper page keeps still while it is read, and
    /// so does a list that ends before now (`to`), where no run can arrive.
    public string? Poll => AnyActive ? Polls.Live : Filter.Offset == 0 && Filter.Cursor is null && !(Filter.To <= Now) ? Polls.Quiet : null;
    public long First => Page.Items.Count == 0 ? 0 : Filter.Offset + 1;
    public long Last => Filter.Offset + Page.Items.Count;
    public bool HasPrevious => Filter.Offset > 0;
    public bool HasNext => Page.HasMoreAfter(Filter.Offset, Filter.Limit);
    public int PreviousOffset => Math.Max(0, Filter.Offset - Filter.Limit);
    public int NextOffset => Filter.Offset + Filter.Limit;

    /// The page's place in the list, `1,001-1,020 of 1,103`: all three are counts (SPEC "Display formats").
    public string Range => $"{Format.Count(First)}-{Format.Count(Last)} of {Format.Count(Page.Total)}{(Page.TotalCapped ? "+" : "")}";

    /// What the page's status line says of this list (read out only when it changes, not at every poll).
    public string Summary => Page.Items.Count == 0 ? "No runs found." : "Runs " + Range;

    /// Next reads on from the page's last run (an index seek however deep); Previous back from its first, except to
    /// the first page, which is read from the top so that it shows the newest runs.
    public RunCursor? NextCursor => Page.Items.Count == 0 ? null : RunCursor.From(Page.Items[^1], Filter, before: false);
    public RunCursor? PreviousCursor => Page.Items.Count == 0 || PreviousOffset == 0 ? null : RunCursor.From(Page.Items[0], Filter, before: true);

    /// The page's stats period (null: the default), which the list's links to the page and to itself keep.
    public StatsPeriod? Period { get; init; }

    public string KeepPeriod(string url) => StatsQuery.WithPeriod(url, Period);

    public Dictionary<string, string> KeepPeriod(Dictionary<string, string> routeValues)
    {
        if (StatsQuery.NonDefault(Period) is { } period) routeValues["period"] = period.Token;
        return routeValues;
    }
}

/// Why a run in the table ended as it did: its message's first line cut to ShownLength characters, the message as the
/// table read it (`RunRows.ListErrorLength` characters at most) in the title, after its error's code (SPEC: the code
/// beside the message), or its type when it has no code: one of the two, so the message keeps most of the cell's two
/// lines. A run whose error has no message, type or code (a Zos run reports only its `errors` list) shows its first
/// listed error the same way, after that error's topic when it has one. Null for a run that did not end
/// unsuccessfully, or whose errors say nothing.
public sealed record RowError(string? Code, string? Type, string Line, string? Title)
{
    /// The topic of the listed error shown (`server:1:user:2`: what it failed on), where the code or type would go.
    public string? Topic { get; init; }

    /// Something goes before the line: the code, the type or the topic.
    public bool HasLabel => Code is not null || Type is not null || Topic is not null;

    /// A longer first line is cut here: the cell shows two lines at most, and the title or the run page the rest.
    public const int ShownLength = 120;

    /// A qualified type (`zos.llm.errors.RateLimitError`, `System.TimeoutException`) by its last name, as people say it.
    /// Null when it is the type as written.
    public string? ShortType => Type is { } type && !type.Any(char.IsWhiteSpace) && type.LastIndexOf('.') is var dot && dot >= 0 && dot < type.Length - 1
        ? type[(dot + 1)..] : null;

    /// `firstListed`: the run's first listed error (`RunPage.FirstListedErrorOf`), shown when its error says nothing.
    public static RowError? Of(RunRow run, RunErrorRow? firstListed = null)
    {
        if (!RunStatus.Unsuccessful.Contains(run.Status)) return null;
        if (run.EndedWithoutErrorText) return firstListed is null ? null : OfListed(firstListed);
        var message = string.IsNullOrWhiteSpace(run.ErrorMessage) ? null : run.ErrorMessage;
        return new RowError(run.ErrorCode, run.ErrorCode is null ? run.ErrorType : null, Cut(FirstLine(message), ShownLength),
            message is null ? null : Cut(message, RunRows.ListErrorLength));
    }

    private static RowError? OfListed(RunErrorRow error)
    {
        var text = string.IsNullOrWhiteSpace(error.Error) ? null : error.Error;
        var topic = string.IsNullOrWhiteSpace(error.Topic) ? null : error.Topic;
        if (text is null && topic is null) return null;
        return new RowError(null, null, Cut(FirstLine(text), ShownLength), text is null ? null : Cut(text, RunRows.ListErrorLength)) { Topic = topic };
    }

    // The first line with words, trimmed; "" for none.
    private static string FirstLine(string? text) =>
        text?.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0] ?? "";

    // At most `max` characters, then "…". Counted in code points, as SQL's substr counts them: a pair is never split.
    private static string Cut(string text, int max)
    {
        var (count, end) = (0, 0);
        foreach (var rune in text.EnumerateRunes())
        {
            if (count++ == max) return text[..end].TrimEnd() + "…";
            end += rune.Utf16SequenceLength;
        }
        return text;
    }
}

public sealed record StatsCardsModel(RunStats Stats, StatsPeriod Period, string? TenantParam, DateTimeOffset Now)
{
    public bool AnyActive => Stats.QueuedNow + Stats.RunningNow > 0;

    /// The cards poll every 5 s while anything is queued or running, else every 30 s: a run that arrives shows.
    public string Poll => AnyActive ? Polls.Live : Polls.Quiet;

    /// The runs page's query without the period ("" or "?…"), which the period's links keep: the page's whole view when
    /// the page draws them, the tenant alone from the fragment (views.js writes them from the address after a swap).
    public string PageQuery { get; init; } = TenantParam is null ? "" : QueryString.Create("tenant", TenantParam).ToString();

    /// A bad `period` of the page's address, named above the cards (which count the default then).
    public BadParameter? Error { get; init; }
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

/// The runs page's polling intervals, as htmx triggers.
public static class Polls
{
    public const string Live = "every 5s";
    public const string Quiet = "every 30s";
}
