using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/ui/runs/{id}/logs?step=&level=&q=&after=&before=`: the fragment `.log-view`. Without a cursor it holds the last
/// lines (a huge log opens at its end, "load earlier" reads back); `after=` the lines after a seq (following, paging on).
public sealed class LogsModel(RunViews runs, LogStore logs) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        var (filter, errors) = LogFilter.Parse(Request.Query.ToPairs());
        if (errors is not null) return Fragments.BadParameters(errors);
        var run = await runs.GetAsync(RunTenant.Of(HttpContext), id, ct);
        if (run is null) return Fragments.RunNotFound();
        var view = await LoadAsync(HttpContext, logs, run, filter!, ct);
        return Partial("_LogView", view);
    }

    /// One page of the run's lines as the log view shows it, for this fragment and the pages that embed it.
    public static async Task<LogViewModel> LoadAsync(HttpContext http, LogStore logs, RunRow run, LogFilter filter, CancellationToken ct) =>
        View(http, run, filter, await logs.ReadAsync(run, filter, ct));

    private static LogViewModel View(HttpContext http, RunRow run, LogFilter filter, LogPage page) =>
        new(run, filter, page, Routes.Path(Routes.RunLogs, ("id", run.Id)), RunTenant.QueryFor(http, run.TenantId), Follow: RunStatus.IsActive(run.Status));

    /// The filter of a log panel of the run page (every line) or of a step panel (`step`: that step's lines); `filter`
    /// its level and text as the run page's query gave them (the panel's form without JavaScript).
    public static LogFilter PanelFilter(string? step, LogFilter? filter = null) =>
        new() { Step = step, MinLevel = filter?.MinLevel ?? LogLevels.Trace, Q = filter?.Q };

    /// A log panel (`PanelFilter`) reading its page.
    public static async Task<LogPanelModel> PanelAsync(HttpContext http, LogStore logs, RunRow run, string? step, CancellationToken ct, LogFilter? filter = null)
    {
        var panelFilter = PanelFilter(step, filter);
        return Panel(http, run, panelFilter, await logs.ReadAsync(run, panelFilter, ct));
    }

    /// A log panel with the page `PanelFilter`'s filter read (`filter.Step`: a step's panel).
    public static LogPanelModel Panel(HttpContext http, RunRow run, LogFilter filter, LogPage page)
    {
        var view = View(http, run, filter, page);
        var step = filter.Step;
        var tenant = RunTenant.QueryFor(http, run.TenantId);
        // The download takes the step and level (as logs.js sets it when the filter changes), not the search.
        var download = Routes.Path(Routes.ApiRunLogsText, ("id", run.Id))
                       + Join(new LogFilter { Step = step, MinLevel = view.Filter.MinLevel }.Query(), tenant);
        var domId = step is null ? "run-logs" : DomIds.For("step-logs", step);
        return new LogPanelModel(view, domId, download, InStep: step is not null)
        {
            PageUrl = Routes.Path(Routes.RunPage, ("id", run.Id)) + "#" + domId,
        };
    }

    private static string Join(string query, string tenant) => tenant.Length == 0 ? query : query.Length == 0 ? tenant : query + "&" + tenant[1..];
}
