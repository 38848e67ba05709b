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
}
