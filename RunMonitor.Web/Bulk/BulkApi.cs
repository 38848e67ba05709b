using System.Globalization;
using System.Net;
using System.Text;
using Htmx;
using RunMonitor.Web.Api;
using RunMonitor.Web.Pages;
using RunMonitor.Web.Pages.Shared;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Bulk;

/// `/api/bulk` (SPEC "Bulk operations") and the progress fragment `/ui/bulk/{id}`: operators and admins of the
/// operation's tenant only; another tenant's operation is not found.
public static class BulkApi
{
    public static IEndpointRouteBuilder MapBulkApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.ApiBulk, StartAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery();
        app.MapRead(Routes.ApiBulk, ListAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery();
        app.MapRead(Routes.ApiBulkOperation, GetAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery();
        app.MapDelete(Routes.ApiBulkOperation, StopAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery();
        app.MapRead(Routes.BulkProgress, ProgressAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery();
        return app;
    }

    /// The tenant whose operations the caller sees: its own, or every one for a super admin (null).
    public static string? ScopeOf(Caller caller) => caller.TenantId;

    public static string Location(long id) => Routes.Path(Routes.ApiBulkOperation, ("operationId", id.ToString(CultureInfo.InvariantCulture)));

    private static IResult NotFound(string id) =>
        Problems.Status(StatusCodes.Status404NotFound, "Operation not found", $"No bulk operation '{id}' is visible to you.");

    private static bool TryId(string text, out long id) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);

    /// Dry run: 200 `{matched, eligible}`. Otherwise 202 `{id, action, status, matched, eligible}` + Location, or 409
    /// naming both counts when `expectedCount` is not the eligible count now.
    private static async Task<IResult> StartAsync(HttpContext http, BulkStore store, BulkWorker worker, CancellationToken ct)
    {
        var (root, bad) = await RunsApi.ReadJsonAsync(http, ct);
        if (bad is not null) return bad;
        var caller = http.Caller();
        var (request, problem) = BulkRequestParser.Parse(root, caller);
        if (problem is not null) return problem;
        BulkOperationRow? operation;
        try
        {
            (operation, var outcome) = await BeginAsync(request!, caller, store, worker, ct);
            if (outcome is not null) return outcome;
            if (operation is null)
            {
                var (matched, eligible) = await store.CountAsync(request!.Selection, ct);
                return Results.Ok(new { matched, eligible });
            }
        }
        catch (AmbiguousRunIdException e)
        {
            return Problems.Status(StatusCodes.Status409Conflict, "Ambiguous run id", SharedIdText(e) + ": say whose runs the ids are (\"tenant\" beside ids; on the runs page, filter by tenant)");
        }
        return new WithLocation(Results.Json(new { id = operation.Id, action = operation.Action, status = operation.Status, matched = operation.Matched,
            eligible = operation.Eligible }, statusCode: StatusCodes.Status202Accepted), Location(operation.Id));
    }

    /// Starts the operation the request describes (null for a dry run), or the 409 of a count that changed.
    public static async Task<(BulkOperationRow? Operation, IResult? Conflict)> BeginAsync(BulkRequest request, Caller caller, BulkStore store,
        BulkWorker worker, CancellationToken ct)
    {
        if (request.DryRun) return (null, null);
        try
        {
            var operation = await store.CreateAsync(request.Selection, request.ExpectedCount!.Value, request.FilterText ?? IdsText(request.Selection),
                caller.Actor, ct);
            worker.Notify();
            return (operation, null);
        }
        catch (BulkCountChangedException e)
        {
            return (null, Problems.Status(StatusCodes.Status409Conflict, "The view changed",
                $"expectedCount is {e.Expected} but {e.Eligible} runs are eligible for {request.Selection.Action} now; count again (dryRun) and confirm that number"));
        }
    }

    /// What a bulk request's ids refused for naming runs of several tenants says, before how to name one.
    public static string SharedIdText(AmbiguousRunIdException e) => $"run id '{e.Id}' names runs of tenants {string.Join(", ", e.Tenants)}";

    private static string? IdsText(BulkSelection selection) =>
        selection.Ids is { } ids ? BulkOperationRow.IdsPrefix + string.Join(',', ids.Take(20)) + (ids.Count > 20 ? $",… ({ids.Count} ids)" : "") : null;

    private static async Task<IResult> ListAsync(HttpContext http, BulkStore store, CancellationToken ct)
    {
        var operations = await store.ListAsync(ScopeOf(http.Caller()), ct);
        return Results.Ok(operations.Select(o => BulkOperationJson.From(o)).ToList());
    }

    private static async Task<IResult> GetAsync(string operationId, HttpContext http, BulkStore store, CancellationToken ct)
    {
        if (!TryId(operationId, out var opId) || await store.GetAsync(ScopeOf(http.Caller()), opId, ct) is not { } operation) return NotFound(operationId);
        return Results.Ok(BulkOperationJson.From(operation, await store.ErrorsAsync(operation.Id, ct)));
    }

    /// 202 with the operation as it now is; stopping one that is stopped already is no error, a completed one is a 409.
    private static async Task<IResult> StopAsync(string operationId, HttpContext http, BulkStore store, CancellationToken ct)
    {
        var scope = ScopeOf(http.Caller());
        if (!TryId(operationId, out var opId) || await store.GetAsync(scope, opId, ct) is not { } operation) return NotFound(operationId);
        if (operation.Status == BulkStatus.Completed)
            return Problems.Status(StatusCodes.Status409Conflict, "Conflict", $"bulk operation {opId} is completed; there is nothing left to stop");
        await store.StopAsync(opId, ct);
        var now = (await store.GetAsync(scope, opId, ct))!;
        return Results.Json(BulkOperationJson.From(now, await store.ErrorsAsync(opId, ct)), statusCode: StatusCodes.Status202Accepted);
    }

    /// The progress fragment, polled: 286 once the operation is finished (htmx stops polling), with a toast and
    /// `runsChanged` for an htmx request, so the table and the stats are read again.
    private static async Task<IResult> ProgressAsync(string operationId, HttpContext http, BulkStore store, TimeProvider time, CancellationToken ct)
    {
        if (!TryId(operationId, out var opId) || await store.GetAsync(ScopeOf(http.Caller()), opId, ct) is not { } operation)
            return ErrorPages.Result(StatusCodes.Status404NotFound, "<p class=\"error\" role=\"alert\">Operation not found</p>");
        var errors = operation.Skipped + operation.Failed > 0 ? await store.ErrorsAsync(opId, ct) : [];
        if (operation.IsFinished && http.Request.IsHtmx())
        {
            var level = operation.Failed > 0 ? "error" : operation.Status == BulkStatus.Stopped || operation.Skipped > 0 ? "warning" : "success";
            http.Response.Htmx(h => h.WithTrigger("showToast", new { message = Summary(operation), level }).WithTrigger("runsChanged"));
        }
        return Results.Content(ProgressHtml(operation, errors, time.GetUtcNow()), "text/html; charset=utf-8", statusCode: operation.IsFinished ? 286 : StatusCodes.Status200OK);
    }

    /// `Retry of 1,234 runs completed: 1,200 succeeded, 34 skipped, 0 failed.`
    public static string Summary(BulkOperationRow operation) =>
        $"{BulkActions.Of(operation.Action, operation.Eligible)} {operation.Status}: " +
        $"{BulkRequestParser.Count(operation.Succeeded)} succeeded, {BulkRequestParser.Count(operation.Skipped)} skipped, {BulkRequestParser.Count(operation.Failed)} failed.";

    /// `.bulk-progress`: the counts, a progress bar, who started it when (and when it ended), the runs it acts on (its
    /// filter, linked to that list, or the number chosen) and the first skipped or failed runs; polled while running.
    public static string ProgressHtml(BulkOperationRow operation, IReadOnlyList<BulkItemRow> errors, DateTimeOffset now)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
        var id = operation.Id.ToString(CultureInfo.InvariantCulture);
        var url = Routes.Path(Routes.BulkProgress, ("operationId", id));
        var html = new StringBuilder();
        html.Append($"<section class=\"bulk-progress card\" id=\"bulk-progress-{id}\" data-status=\"{E(operation.Status)}\" data-operation=\"{id}\" aria-labelledby=\"bulk-progress-title-{id}\"");
        if (!operation.IsFinished) html.Append($" hx-get=\"{E(url)}\" hx-trigger=\"every 1s\" hx-swap=\"outerHTML\"");
        html.Append('>');
        html.Append($"<h2 id=\"bulk-progress-title-{id}\">{E(BulkActions.Of(operation.Action, operation.Eligible))} ");
        html.Append(StatusBadge.Bulk(operation.Status)).Append("</h2>");
        var max = Math.Max(operation.Eligible, 1);
        html.Append($"<progress class=\"bulk-bar-progress\" max=\"{max}\" value=\"{Math.Min(operation.Done, max)}\" aria-label=\"Runs done\">{operation.Done * 100 / max}%</progress>");
        html.Append("<p role=\"status\" aria-live=\"polite\" class=\"bulk-counts\">");
        html.Append($"<span class=\"bulk-done\">{BulkRequestParser.Count(operation.Done)}</span> of {BulkRequestParser.Count(operation.Eligible)} done: ");
        html.Append($"<span class=\"bulk-succeeded\">{BulkRequestParser.Count(operation.Succeeded)}</span> succeeded, ");
        html.Append($"<span class=\"bulk-skipped\">{BulkRequestParser.Count(operation.Skipped)}</span> skipped, ");
        html.Append($"<span class=\"bulk-failed\">{BulkRequestParser.Count(operation.Failed)}</span> failed.");
        html.Append("</p>");
        // Its page (the runs it acts on and what became of each) from wherever the card is shown.
        html.Append($"<p class=\"muted bulk-meta\"><a class=\"bulk-page-link\" href=\"{E(Routes.Path(Routes.BulkPage, ("operationId", id)))}\">Operation {id}</a>, started by {E(operation.CreatedBy)} {TimeView.Html(DbTime.FromDb(operation.CreatedAt), now)}");
        if (operation.CompletedAt is not null) html.Append($", ended {TimeView.Html(DbTime.FromDb(operation.CompletedAt), now)}");
        html.Append(operation.ListQuery is { } query
            ? $". On the runs that matched <a class=\"bulk-filter\" href=\"{E(Routes.RunsFor(query))}\">{(query.Length == 0 ? "no filter (every run)" : E(query))}</a> when it began"
            : $". On {BulkRequestParser.Count(operation.Matched)} chosen run{(operation.Matched == 1 ? "" : "s")}");
        html.Append(".</p>");
        if (errors.Count > 0)
        {
            html.Append("<details class=\"bulk-errors\"><summary>Skipped or failed runs</summary><ul>");
            foreach (var error in errors)
            {
                // An operation over every tenant names each run's tenant (a super admin's link needs it).
                var link = Routes.Path(Routes.RunPage, ("id", error.RunId)) + (operation.TenantId == BulkStore.AllTenants ? "?tenant=" + Uri.EscapeDataString(error.TenantId) : "");
                html.Append($"<li><a href=\"{E(link)}\">{E(error.RunId)}</a>: {E(error.Reason ?? error.State)}</li>");
            }
            html.Append("</ul></details>");
        }
        if (!operation.IsFinished)
            html.Append($"<button type=\"button\" class=\"btn btn-ghost btn-flush bulk-stop\" hx-delete=\"{E(Location(operation.Id))}\" hx-swap=\"none\">Stop</button>");
        html.Append("</section>");
        return html.ToString();
    }

    private sealed class WithLocation(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.Location = location;
            return inner.ExecuteAsync(http);
        }
    }
}
