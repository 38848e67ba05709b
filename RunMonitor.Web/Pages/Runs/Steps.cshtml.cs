using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Htmx;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/ui/runs/{id}/steps` (the step timeline) and `/ui/runs/{id}/steps/{stepId}` (one step's panel): fragments.
public sealed class StepsModel(RunViews store, ArtifactStore artifacts, LogStore logs, TimeProvider time) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string id, string? stepId, CancellationToken ct)
    {
        var accepted = stepId is null ? "step" : null;
        foreach (var key in Request.Query.Keys.Where(k => k != accepted && k != RunTenant.Parameter))
            return Fragments.BadParameter(new BadParameter(key, stepId is null
                ? "is not accepted; the timeline takes only step (the selected step id) and, for a super admin, tenant"
                : "is not accepted; a step panel takes no parameters but, for a super admin, tenant"));
        var run = await store.GetAsync(RunTenant.Of(HttpContext), id, ct);
        if (run is null) return Fragments.RunNotFound();
        if (stepId is null)
        {
            // The timeline's own poll seeing the run end reloads the page once: status, error and payloads change too.
            if (Request.IsHtmx(out var hx) && hx!.Trigger == "step-timeline-poll" && !RunStatus.IsActive(run.Status))
                Response.Htmx(h => h.Refresh());
            var steps = await store.GetStepsAsync(run, ct);
            var selected = Request.Query["step"].ToString() is { Length: > 0 } s ? s : null;
            return Partial("_StepTimeline", new StepTimelineModel(run, steps, selected, time.GetUtcNow()));
        }
        var panel = await LoadPanelAsync(store, artifacts, run, stepId, time.GetUtcNow(), ct);
        if (panel is not null) panel = panel with { Logs = await LogsModel.PanelAsync(HttpContext, logs, run, stepId, ct) };
        if (panel is null) return StepNotFound();
        return Partial("_StepPanel", panel);
    }

    public static async Task<StepPanelModel?> LoadPanelAsync(RunViews store, ArtifactStore artifacts, RunRow run, string stepId, DateTimeOffset now, CancellationToken ct)
    {
        var step = await store.GetStepAsync(run, stepId, ct);
        if (step is null) return null;
        return new StepPanelModel(run, step, await artifacts.ListAsync(run, stepId, ct), now);
    }

    public static ContentResult StepNotFound() => Fragments.Html(StatusCodes.Status404NotFound, "<p>Step not found</p>");
}
