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
public sealed class DetailModel(RunViews store, RunList list, ArtifactStore artifacts, LogStore logs, TimeProvider time, RunMonitor.Web.Data.Database database) : PageModel
{
    public RunPageModel? View { get; private set; }
    public BadParameter? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        var view = await store.GetPageViewAsync(RunTenant.Of(HttpContext), id, ct);
        ViewData["Title"] = view is null ? "Run not found" : view.Detail.Run.DisplayName;
        ViewData["TimeSeconds"] = true;
        if (view is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        foreach (var key in Request.Query.Keys.Where(k => k is not ("step" or RunTenant.Parameter or ListWalk.ListParameter or ListWalk.AtParameter or "level" or "q")))
        {
            Error = new BadParameter(key, "is not accepted; the run page takes only step (a step id to open), level and q (a log filter), list and at (the list it was opened from) and, for a super admin, tenant");
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        var (logFilter, logError) = LogFilter.Parse(Request.Query.ToPairs().Where(p => p.Key is "level" or "q").ToDictionary(StringComparer.Ordinal));
        if (logError is not null)
        {
            Error = logError;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            logFilter = new LogFilter();
        }
        var (walk, walkError) = await ListWalk.ReadAsync(Request.Query.ToPairs(), HttpContext.Caller(), id, list, ct);
        if (walkError is not null)
        {
            Error = walkError;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        var now = time.GetUtcNow();
        var (detail, steps, retries) = view;
        // A failed run opens on its failing step: from the red badge to the stack trace in one click.
        var askedStep = Request.Query["step"].ToString() is { Length: > 0 } asked ? asked : null;
        var stepId = askedStep ?? steps.FirstOrDefault(s => s.Status == StepStatus.Failed)?.StepId;
        // The page has every step whole already: the panel's step comes from them (ids compare as SQL does, ordinal).
        var step = stepId is null ? null : steps.FirstOrDefault(s => string.Equals(s.StepId, stepId, StringComparison.Ordinal));
        // The reads left are independent of one another: each on a connection of its own, at the same time (on
        // PostgreSQL their round trips overlap instead of adding up).
        var stepArtifacts = step is null ? null : artifacts.ListAsync(detail.Run, step.StepId, ct);
        var stepLogs = step is null ? null : LogsModel.PanelAsync(HttpContext, logs, detail.Run, step.StepId, ct, askedStep is null ? null : logFilter);
        var activity = ActivityAsync(detail.Run, ct);
        var runLogs = LogsModel.PanelAsync(HttpContext, logs, detail.Run, null, ct, askedStep is null ? logFilter : null);
        await Task.WhenAll(new Task?[] { stepArtifacts, stepLogs, activity, runLogs }.OfType<Task>());
        StepPanelModel? panel = null;
        string? missing = null;
        if (step is not null)
            panel = new StepPanelModel(detail.Run, step, await stepArtifacts!, now) { Logs = await stepLogs! };
        else if (stepId is not null)
        {
            missing = stepId;
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        View = new RunPageModel(detail, steps, retries, panel, missing, now)
        {
            BaseRunInTenant = view.BaseRunInTenant, Walk = walk is null ? null : new RunWalkModel(walk, InModal: false),
            Activity = await activity,
            Logs = await runLogs,
        };
        return Page();
    }

    // The run is read already: its activity is one query.
    private async Task<IReadOnlyList<ActivityRow>> ActivityAsync(RunRow run, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await ActivityLog.ForRunAsync(connection, run.TenantId, run.Id);
    }
}
