using System.Net;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Htmx;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/ui/runs/{id}/retry|cancel` (POST, antiforgery) and the fragments that keep a run's view
/// current: `/ui/runs/{id}/live` (286 once the run is finished) and `/ui/runs/{id}/actions`.
[AcceptsQuery(ScopeParameter, RunTenant.Parameter)]
[AcceptsQuery("seen", "badge", "steps", RunTenant.Parameter, Handler = "live")]
[AcceptsForm("fromFailedStep", "runAgain", EditedInput.Field, Handler = "retry")]
[AcceptsForm(Handler = "cancel")]
public sealed class ControlModel(RunViews store, RunQueue service, TimeProvider time) : PageModel
{
    private Caller Caller => HttpContext.Caller();

    /// Where the actions block is drawn: `page` (the run page, its forms with their own token field) or `modal`.
    private const string ScopeParameter = "scope";

    /// `scope` is checked before any handler runs: a retry or cancel it refuses is never done. `NonHandler`: Razor
    /// Pages would otherwise serve it as a handler (method PAGE).
    [NonHandler]
    public override void OnPageHandlerExecuting(Microsoft.AspNetCore.Mvc.Filters.PageHandlerExecutingContext context)
    {
        if (Request.Query.TryGetValue(ScopeParameter, out var scope) && scope.ToString() is not ("page" or "modal"))
            context.Result = Fragments.BadParameter(new BadParameter(ScopeParameter, "accepts page (the run page's actions) or modal (the default)"));
    }

    [HandlerPolicy(Policies.RequireOperator)]
    public async Task<IActionResult> OnPostRetryAsync(string id, [FromForm] string? fromFailedStep, [FromForm] string? runAgain, CancellationToken ct)
    {
        // Read as sent: binding would turn an emptied textarea into "not sent".
        var triggerPayload = Request.HasFormContentType && Request.Form.TryGetValue(EditedInput.Field, out var sent) ? sent.ToString() : null;
        if (fromFailedStep is not (null or "true" or "false"))
            return Refused(WriteOutcome.Invalid, "fromFailedStep accepts true or false");
        if (runAgain is not (null or "true" or "false"))
            return Refused(WriteOutcome.Invalid, "runAgain accepts true or false");
        var fromFailed = fromFailedStep == "true";
        var request = new RetryRequest(FromFailedStep: fromFailed) { RunAgain = runAgain == "true" };
        if (triggerPayload is not null)
        {
            // "Edit input": the text is compared with the payload the run has now, so an untouched textarea is no edit.
            var current = await store.GetAsync(RunTenant.Of(HttpContext), id, ct);
            if (current is null) return Refused(WriteOutcome.NotFound, null);
            var (edited, error) = EditedInput.Apply(request, triggerPayload, current.TriggerPayload);
            if (error is not null) return Refused(WriteOutcome.Invalid, $"{error.Name} {error.Message}");
            request = edited!;
        }
        var result = await service.RetryAsync(Caller, RunTenant.Of(HttpContext), id, request, ct);
        if (result.Outcome != WriteOutcome.Created) return Refused(result.Outcome, result.Reason);
        var newId = result.Value!.Id;
        var href = RunPage(result.Value);
        var what = (fromFailed ? "Retry from the failed step" : request.RunAgain ? "Run again" : "Retry") + (request.PayloadEdited ? " with edited input" : "");
        Response.Htmx(h => h
            .WithTrigger("showToast", new { message = $"{what} queued as run {newId}.", level = "success", href, linkText = "Open the new run" })
            .WithTrigger("runsChanged"));
        if (!Request.IsHtmx()) return Redirect(href);
        return await ActionsAsync(id, new ActionNotice($"{what} queued as", newId, href), ct);
    }

    [HandlerPolicy(Policies.RequireOperator)]
    public async Task<IActionResult> OnPostCancelAsync(string id, CancellationToken ct)
    {
        var result = await service.CancelAsync(Caller, RunTenant.Of(HttpContext), id, ct);
        if (result.Outcome != WriteOutcome.Ok) return Refused(result.Outcome, result.Reason);
        var run = result.Value!;
        var message = run.Status == RunStatus.Cancelled
            ? $"Run {run.Id} cancelled"
            : $"Cancel requested for run {run.Id}; its worker will stop it";
        Response.Htmx(h => h.WithTrigger("showToast", new { message, level = "success" }).WithTrigger("runsChanged"));
        if (!Request.IsHtmx()) return Redirect(RunPage(run));
        return await ActionsAsync(id, new ActionNotice(message), ct);
    }

    private string RunPage(RunRow run) => Url.Page("/Runs/Detail", new { id = run.Id, tenant = RunTenant.ForLink(HttpContext, run.TenantId) })!;

    public Task<IActionResult> OnGetActionsAsync(string id, CancellationToken ct) => ActionsAsync(id, null, ct);

    /// `seen` is the status the page showed; when it was active and the run has now finished, the
    /// answer also announces it (toast, `runFinished` for the browser notification, `runsChanged`).
    public async Task<IActionResult> OnGetLiveAsync(string id, string? seen, string? badge, string? steps, CancellationToken ct)
    {
        var seenStatus = string.IsNullOrEmpty(seen) ? null : RunStatus.Normalize(seen);
        if (BadParameter.InOrder(Request.Query.Keys,
            [
                badge is null or "true" or "false" ? null : new BadParameter("badge", "accepts true (default) or false"),
                steps is null or "true" or "false" ? null : new BadParameter("steps", "accepts true (default) or false"),
                string.IsNullOrEmpty(seen) || seenStatus is not null ? null : new BadParameter("seen", $"accepts a run status: {RunStatus.AcceptedWords}"),
            ]) is { } bad)
            return Fragments.BadParameters(bad);
        var run = await store.GetAsync(RunTenant.Of(HttpContext), id, ct);
        if (run is null) return Fragments.RunNotFound();
        var runSteps = await store.GetStepsAsync(run, ct);
        var changed = seenStatus is not null && seenStatus != run.Status;
        var finished = RunStatus.IsTerminal(run.Status) && seenStatus is not null && RunStatus.IsActive(seenStatus);
        if (RunStatus.IsTerminal(run.Status)) Response.StopPolling();
        // One Htmx call: the package does not keep a detail-less trigger set by an earlier call on the response.
        if (changed || finished)
        {
            Response.Htmx(h =>
            {
                if (changed) h.WithTrigger("runStatusChanged", new { runId = run.Id, status = run.Status });
                if (!finished) return;
                // A status message, not an alert (role="status"), whatever the outcome: nothing went wrong here.
                var level = run.Status is RunStatus.Completed or RunStatus.Dry ? "success" : "info";
                var name = run.DisplayName;
                h.WithTrigger("showToast", new { message = $"Run {run.Id} ({name}) finished: {run.Status}", level })
                    .WithTrigger("runFinished", new { runId = run.Id, status = run.Status, name })
                    .WithTrigger("runsChanged");
            });
        }
        return Partial("_RunLiveBody", new RunLiveModel(run, runSteps, time.GetUtcNow()) { ShowBadge = badge != "false", ShowSteps = steps != "false" });
    }

    private async Task<IActionResult> ActionsAsync(string id, ActionNotice? notice, CancellationToken ct)
    {
        var run = await store.GetAsync(RunTenant.Of(HttpContext), id, ct);
        if (run is null) return Fragments.RunNotFound();
        var steps = await store.GetStepsAsync(run, ct);
        var scope = Request.Query[ScopeParameter].ToString() is "page" ? "page" : "modal";
        return Partial("_RunActions", RunActionsModel.From(run, steps, scope) with { Notice = notice });
    }

    /// 404 / 409 / 400 / 403 with the reason as a fragment and as a toast: never a silent no-op.
    private ContentResult Refused(WriteOutcome outcome, string? reason)
    {
        var message = outcome == WriteOutcome.NotFound ? "Run not found" : reason ?? "the run's state does not allow this";
        Response.Htmx(h => h.WithTrigger("showToast", new { message, level = "error" }));
        return outcome == WriteOutcome.NotFound
            ? Fragments.RunNotFound()
            : Fragments.Html(WriteOutcomeStatus.Of(outcome), $"<p class=\"error\" role=\"alert\">{WebUtility.HtmlEncode(message)}</p>");
    }
}
