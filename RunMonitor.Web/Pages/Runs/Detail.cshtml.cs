using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.SavedViews;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/runs/{id}`: the run page. `?step=` opens that step's panel inline, so the timeline's links work without JavaScript.
/// `level=` and `q=` filter a log panel, as its form sends them without JavaScript: the step panel's when `step` is
/// given, the run's otherwise.
public sealed class DetailModel(RunViews store, RunList list, TimeProvider time) : PageModel
{
    public RunPageModel? View { get; private set; }
    public IReadOnlyList<BadParameter>? Errors { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        // The step is checked as the logs fragment checks it (a step id, given once; here also not empty, as the page
        // opens the panel it names); a bad one opens no panel.
        var (logFilter, logErrors) = LogFilter.Parse(Request.Query.ToPairs().Where(p => p.Key is "step" or "level" or "q").ToDictionary(StringComparer.Ordinal));
        logFilter ??= new LogFilter();
        var askedStep = logFilter.Step;
        // The level and text filter the open step's panel when the query names the step, the run's otherwise.
        var runLogs = LogsModel.PanelFilter(null, askedStep is null ? logFilter : null);
        var stepLogs = LogsModel.PanelFilter(null, askedStep is null ? null : logFilter);
        // Everything the page shows in one batch: one round trip to the store.
        var reads = await store.GetRunPageAsync(RunTenant.Of(HttpContext), id, askedStep, runLogs, stepLogs, ct);
        ViewData["Title"] = reads is null ? "Run not found" : reads.View.Detail.Run.DisplayName;
        ViewData["TimeSeconds"] = true;
        if (reads is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        var unknown = Request.Query.Keys.Where(k => k is not ("step" or RunTenant.Parameter or ListWalk.ListParameter or ListWalk.AtParameter or "level" or "q"))
            .Select(key => new BadParameter(key, "is not accepted; the run page takes only step (a step id to open), level and q (a log filter), list and at (the list it was opened from) and, for a super admin, tenant"));
        // An empty step names no step to open: refused, not read as "none asked" (the timeline's links always name one).
        if (logErrors is null && Request.Query.TryGetValue("step", out var stepValues) && stepValues is [var given] && string.IsNullOrEmpty(given))
            logErrors = [new BadParameter("step", $"accepts the id of the step to open: {IngestParser.IdText}; leave it out to open none")];
        var (walk, walkError) = await ListWalk.ReadAsync(Request.Query.ToPairs(), HttpContext.Caller(), id, list, ct);
        Errors = BadParameter.InOrder(Request.Query.Keys, unknown.Concat(logErrors ?? []).Append(walkError));
        if (Errors is not null) Response.StatusCode = StatusCodes.Status400BadRequest;
        var now = time.GetUtcNow();
        var (detail, steps, retries) = reads.View;
        // A failed run opens on its failing step: from the red badge to the stack trace in one click (the batch read
        // that step's artifacts and lines by the same rule).
        var stepId = askedStep ?? steps.FirstOrDefault(s => s.Status == StepStatus.Failed)?.StepId;
        // The page has every step whole already: the panel's step comes from them (ids compare as SQL does, ordinal).
        var step = stepId is null ? null : steps.FirstOrDefault(s => string.Equals(s.StepId, stepId, StringComparison.Ordinal));
        StepPanelModel? panel = null;
        string? missing = null;
        if (step is not null)
            panel = new StepPanelModel(detail.Run, step, reads.StepArtifacts, now) { Logs = LogsModel.Panel(HttpContext, detail.Run, stepLogs with { Step = step.StepId }, reads.StepLogs) };
        else if (stepId is not null)
        {
            missing = stepId;
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        View = new RunPageModel(detail, steps, retries, panel, missing, now)
        {
            BaseRunInTenant = reads.View.BaseRunInTenant, Walk = walk is null ? null : new RunWalkModel(walk, InModal: false),
            Activity = reads.Activity,
            Logs = LogsModel.Panel(HttpContext, detail.Run, runLogs, reads.RunLogs),
        };
        return Page();
    }
}
