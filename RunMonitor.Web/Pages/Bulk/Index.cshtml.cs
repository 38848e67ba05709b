using System.Globalization;
using Htmx;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Bulk;
using RunMonitor.Web.Runs;
using RunMonitor.Web.SavedViews;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Bulk;

/// What the confirmation shows: the action, the counts, and the selection to post again with the count.
public sealed record BulkConfirmModel(string Action, long Matched, long Eligible, IReadOnlyList<string> Ids, bool All, string Query, string? Problem)
{
    /// Above this many runs the person types the count (SPEC).
    public const int TypedAbove = 100;
    public bool NeedsTypedCount => Eligible > TypedAbove;
}

/// `/bulk/{id?}`: the runs page's bulk form without JavaScript (POST: a confirmation naming the action and the count,
/// then the operation), an operation's progress page (GET with its id, refreshed while it runs) and the tenant's latest
/// operations (GET). With htmx the form's POST answers the progress fragment instead of moving to the page. `list`: the
/// runs list the runs were chosen from (their boxes, without script), which the page's way back returns to.
[Authorize(Policy = Policies.RequireOperator)]
[AcceptsQuery(ListWalk.ListParameter, OffsetParameter)]
[AcceptsForm("action", "all", "query", "ids", "expectedCount", "confirmCount", Repeatable = ["ids"])]
public sealed class IndexModel(BulkStore store, BulkWorker worker, TimeProvider time) : PageModel
{
    /// The page's way back: the runs list the operation's runs came from when known (its filter, or `list`), else the list.
    public string Back { get; private set; } = Routes.Runs;

    public const string OffsetParameter = "offset";

    public BulkOperationRow? Operation { get; private set; }
    public IReadOnlyList<BulkItemRow> Errors { get; private set; } = [];
    /// The page of the operation's runs shown under its progress.
    public BulkItemsModel? Items { get; private set; }
    public IReadOnlyList<BulkOperationRow> Operations { get; private set; } = [];
    public BulkConfirmModel? Confirm { get; private set; }
    public IReadOnlyList<BadParameter>? BadParameters { get; private set; }
    public DateTimeOffset Now => time.GetUtcNow();
    /// A super admin's list names each operation's tenant (or every tenant).
    public bool ShowTenant => HttpContext.Caller().IsSuperAdmin;

    public async Task<IActionResult> OnGetAsync(string? operationId, CancellationToken ct)
    {
        ViewData["Title"] = "Bulk operations";
        var (list, listError) = ListOf(HttpContext.Caller());
        var (offset, offsetError) = OffsetOf();
        if (BadParameter.InOrder(Request.Query.Keys, [listError, offsetError]) is { } bad) return Refuse(bad);
        Back = Routes.RunsFor(list ?? "");
        var scope = BulkApi.ScopeOf(HttpContext.Caller());
        if (operationId is null)
        {
            if (Request.Query.ContainsKey(OffsetParameter))
                return Refuse(new BadParameter(OffsetParameter, $"pages an operation's runs (/bulk/{{id}}); this list shows the latest {BulkStore.ListLimit} operations"));
            Operations = await store.ListAsync(scope, ct);
            // Without JavaScript the list reads itself again while an operation runs.
            if (Operations.Any(o => !o.IsFinished)) ViewData["Refresh"] = 2;
            return Page();
        }
        if (!long.TryParse(operationId, NumberStyles.None, CultureInfo.InvariantCulture, out var opId) || await store.GetAsync(scope, opId, ct) is not { } operation)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            ViewData["Title"] = "Operation not found";
            return Page();
        }
        Operation = operation;
        if (operation.ListQuery is { } filter) Back = Routes.RunsFor(filter);
        ViewData["Title"] = BulkActions.Of(operation.Action, operation.Eligible);
        Errors = operation.Skipped + operation.Failed > 0 ? await store.ErrorsAsync(opId, ct) : [];
        Items = new BulkItemsModel(operation, await store.ItemsAsync(scope, opId, offset, BulkStore.ItemsPageSize, ct), offset, list,
            HttpContext.Caller().IsSuperAdmin, Now);
        // Without JavaScript the page reads itself again until the operation is finished.
        if (!operation.IsFinished) ViewData["Refresh"] = 2;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? operationId, CancellationToken ct)
    {
        ViewData["Title"] = "Confirm bulk operation";
        if (operationId is not null) return Refuse(new BadParameter("operationId", "a bulk operation is started at /bulk, not at an operation's page"));
        var form = Request.HasFormContentType ? Request.Form : null;
        string? One(string name) => form is not null && form.TryGetValue(name, out var v) && v.Count > 0 && !string.IsNullOrWhiteSpace(v[0]) ? v[0]!.Trim() : null;
        var action = One("action");
        if (action is null || !BulkActions.All.Contains(action))
            return Refuse(new BadParameter("action", $"must be one of {string.Join(", ", BulkActions.All)}"));
        // The bar's checkbox sends true; a checkbox without a value sends on.
        var allText = One("all");
        if (allText is not (null or "true" or "on" or "false"))
            return Refuse(new BadParameter("all", "accepts true (every run matching the query) or false (the runs in ids)"));
        var all = allText is "true" or "on";
        var query = One("query") ?? "";
        var ids = form is null ? [] : form["ids"].Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var caller = HttpContext.Caller();
        BulkSelection selection;
        string? filterText = null;
        string? chosenOn = null;
        if (all)
        {
            var (pairs, textError) = SavedViewRules.PairsOf(query);
            if (textError is not null) return Refuse(SavedViewRules.CarriedIn("query", [textError]));
            var (filter, errors) = RunFilter.Parse(pairs!.Where(p => !(p.Key is "offset" or "limit" or "sort")).ToDictionary(StringComparer.Ordinal), caller);
            if (errors is not null) return Refuse(errors);
            filterText = filter!.ToQueryString(includePaging: false).TrimStart('?');
            selection = new BulkSelection(action, filter, null, filter.Tenant);
            query = filterText;
            Back = Routes.RunsFor(filterText);
        }
        else
        {
            if (ids.Count == 0) return Refuse(new BadParameter("ids", "select at least one run, or all runs matching the filter"));
            if (ids.Count > BulkSelection.MaxIds) return Refuse(new BadParameter("ids", $"accepts at most {BulkSelection.MaxIds:N0} runs; select all matching the filter instead"));
            if (BulkRequestParser.BadRunId(ids) is { } badId) return Refuse(badId);
            // A super admin's list of one tenant says whose runs the ids are (run ids are unique within a tenant only).
            var (pairs, textError) = SavedViewRules.PairsOf(query);
            if (textError is not null) return Refuse(SavedViewRules.CarriedIn("query", [textError]));
            var named = pairs!.TryGetValue("tenant", out var t) ? string.Join(',', t) : null;
            var (tenant, _, tenantError) = RunFilter.ScopeTenant(named, caller);
            if (tenantError is not null) return Refuse(tenantError);
            selection = new BulkSelection(action, null, ids, tenant);
            // The list the boxes were ticked on, as the list writes it: the way back, here and on the operation's page.
            chosenOn = SavedViewRules.NormalizeQuery(query, caller).Query;
            if (chosenOn is not null) Back = Routes.RunsFor(chosenOn);
        }

        var expectedText = One("expectedCount");
        long? expected = null;
        if (expectedText is not null)
        {
            if (!long.TryParse(expectedText, NumberStyles.None, CultureInfo.InvariantCulture, out var e))
                return Refuse(new BadParameter("expectedCount", "accepts a whole number of 0 or more"));
            expected = e;
        }
        long matched, eligible;
        try
        {
            (matched, eligible) = await store.CountAsync(selection, ct);
        }
        catch (AmbiguousRunIdException e)
        {
            return Refuse(new BadParameter("ids", BulkApi.SharedIdText(e) + "; choose the tenant in the list's filter and select the runs again"),
                StatusCodes.Status409Conflict);
        }
        BulkConfirmModel ConfirmWith(string? problem) => new(action, matched, eligible, ids, all, query, problem);
        if (expected is null) return Confirming(ConfirmWith(null));
        if (expected > BulkConfirmModel.TypedAbove && One("confirmCount")?.Replace(",", "") != expectedText)
            return Confirming(ConfirmWith($"Type {BulkRequestParser.Count(expected.Value)} to confirm this many runs."), StatusCodes.Status400BadRequest);

        var request = new BulkRequest(selection, false, expected, filterText);
        var (operation, conflict) = await BulkApi.BeginAsync(request, caller, store, worker, ct);
        if (conflict is not null || operation is null)
            return Confirming(ConfirmWith($"The view changed: {BulkRequestParser.Count(eligible)} runs are eligible now, not {BulkRequestParser.Count(expected.Value)}. Confirm again."),
                StatusCodes.Status409Conflict);
        var started = $"{BulkActions.Of(action, operation.Eligible)} started.";
        if (Request.IsHtmx())
        {
            Response.Htmx(h => h.WithTrigger("showToast", new { message = started, level = "info" }));
            return Content(BulkApi.ProgressHtml(operation, [], time.GetUtcNow()), "text/html; charset=utf-8");
        }
        Response.StatusCode = StatusCodes.Status303SeeOther;
        Response.Headers.Location = Routes.Path(Routes.BulkPage, ("operationId", operation.Id.ToString(CultureInfo.InvariantCulture)))
            + (chosenOn is { Length: > 0 } ? QueryString.Create(ListWalk.ListParameter, chosenOn).ToString() : "");
        return new EmptyResult();
    }

    /// `list`, as the runs list writes its query; the 400 naming it when it is given twice or holds what the list refuses.
    private (string? List, BadParameter? Error) ListOf(Caller caller)
    {
        if (!Request.Query.TryGetValue(ListWalk.ListParameter, out var values)) return (null, null);
        if (values.Count != 1) return (null, new BadParameter(ListWalk.ListParameter, "accepts the query string of the runs list the runs were chosen from, once"));
        var (list, errors) = SavedViewRules.NormalizeQuery(values[0], caller);
        return errors is null ? (list, null) : (null, ListWalk.RefusedList(errors));
    }

    /// `offset` of the operation's runs: a whole number of 0 or more, once; 0 when not given.
    private (long Offset, BadParameter? Error) OffsetOf()
    {
        if (!Request.Query.TryGetValue(OffsetParameter, out var values)) return (0, null);
        return values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            ? (offset, null)
            : (0, new BadParameter(OffsetParameter, "accepts a whole number of 0 or more, once: the first of the operation's runs to list"));
    }

    private IActionResult Confirming(BulkConfirmModel confirm, int status = StatusCodes.Status200OK)
    {
        Confirm = confirm;
        Response.StatusCode = status;
        if (Request.IsHtmx())
            return Content($"<p class=\"error\" role=\"alert\">{System.Net.WebUtility.HtmlEncode(confirm.Problem ?? "Confirm the count first.")}</p>", "text/html; charset=utf-8");
        return Page();
    }

    private IActionResult Refuse(BadParameter error, int status = StatusCodes.Status400BadRequest) => Refuse([error], status);

    private IActionResult Refuse(IReadOnlyList<BadParameter> errors, int status = StatusCodes.Status400BadRequest)
    {
        if (Request.IsHtmx()) return Fragments.Html(status, Fragments.BadParametersHtml(errors));
        BadParameters = errors;
        Response.StatusCode = status;
        return Page();
    }
}
