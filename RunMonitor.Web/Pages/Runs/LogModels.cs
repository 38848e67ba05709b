using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Runs;

/// The `_LogView` partial: one page of a run's lines (`.log-view`), the fragment `/ui/runs/{id}/logs` answers.
/// `Url` is the fragment's own URL without query (the links add the filter and a cursor); `Follow`: the run is
/// active, so the page asks for new lines as they come.
public sealed record LogViewModel(RunRow Run, LogFilter Filter, LogPage Page, string Url, string TenantQuery, bool Follow)
{
    /// The last line shown (the cursor a follow or "load later" reads after).
    public long LastSeq => Page.Items.Count > 0 ? Page.Items[^1].Seq : Filter.After ?? (Filter.Before is { } b ? b - 1 : Page.Counts.Lines);

    public string LinkFor(long? after = null, long? before = null) => Url + Join(Filter.Query(after, before));

    /// The lines the filter matches in the whole run and the first error among them, when the read knew them.
    public LogMatch? Match => Page.Match;

    /// Nothing to show, and the run wrote none in this view's scope (the run's, or the step's): not a filter's doing.
    public bool NoLines => (Page.Counts.Lines == 0 && Page.Counts.Dropped == 0) || (!Filter.NarrowsLines && Match is { Lines: 0 });

    /// What an empty view says: a live run's lines may still come; a finished one's never will.
    public string EmptyText => !NoLines ? "No lines match."
        : Follow ? "No log lines yet."
        : Filter.Step is null ? "This run wrote no log lines." : "This step wrote no log lines.";

    private string Join(string query) => TenantQuery.Length == 0 ? query : query.Length == 0 ? TenantQuery : query + "&" + TenantQuery[1..];
}

/// The `_LogPanel` partial: the log view with its controls (level chips, search, wrap, first error, download), on the
/// run page (all lines) and in a step panel (that step's). `DomId` keeps two panels on one page apart. `PageUrl`: the
/// run page at this panel, where the filter form goes without JavaScript (with it, logs.js asks the fragment).
public sealed record LogPanelModel(LogViewModel View, string DomId, string DownloadUrl, bool InStep)
{
    public required string PageUrl { get; init; }

    public LogFilter Filter => View.Filter;
    public LogCounts Counts => View.Page.Counts;

    /// A finished run (or step) that wrote nothing: a filter, a download or a jump have nothing to act on.
    public bool Silent => !View.Follow && View.NoLines;

    /// The panel's count: the run's lines (a step panel's own), or how many of them a level or text matches.
    public string CountText
    {
        get
        {
            var matching = View.Match?.Lines ?? 0;
            var total = InStep ? matching : Counts.Lines;
            var text = !Filter.NarrowsLines ? $"{Format.Count(total)} {(total == 1 ? "line" : "lines")}"
                : InStep ? $"{Format.Count(matching)} {(matching == 1 ? "line matches" : "lines match")}"
                : $"{Format.Count(matching)} of {Format.Count(total)} {(total == 1 ? "line" : "lines")} {(matching == 1 ? "matches" : "match")}";
            return !InStep && Counts.Dropped > 0 ? $"{text} · {Format.Count(Counts.Dropped)} dropped" : text;
        }
    }
}
