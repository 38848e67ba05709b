using System.Globalization;
using System.Net;
using Htmx;
using RunMonitor.Web.Api;
using RunMonitor.Web.Pages;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.SavedViews;

/// `/api/views` (JSON) and the runs page's two forms behind them (`/ui/views`): a tenant's saved views, read by
/// everyone of the tenant, saved and deleted by operators and admins.
public static class SavedViewsApi
{
    public static IEndpointRouteBuilder MapSavedViews(this IEndpointRouteBuilder app)
    {
        app.MapRead(Routes.ApiViews, ListAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery();
        app.MapPost(Routes.ApiViews, CreateAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery();
        app.MapDelete(Routes.ApiView, DeleteAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery();
        app.MapPost(Routes.ViewsSave, SaveFormAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery().AcceptsForm("name", "query", "replace");
        app.MapPost(Routes.ViewsDelete, DeleteFormAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery().AcceptsForm();
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, SavedViewStore store, CancellationToken ct)
    {
        var views = await store.ListAsync(SavedViewRules.ScopeOf(http.Caller()), ct);
        return Results.Ok(views.Select(SavedViewJson.From).ToList());
    }

    /// 201 `{id, name, query, url, createdBy, createdAt}`; the query as the list would refuse it is the list's 400. A name
    /// taken is a 409, unless `replace: true` asks for that view to be saved again with this query: 200, the same id.
    private static async Task<IResult> CreateAsync(HttpContext http, SavedViewStore store, CancellationToken ct)
    {
        var (root, bad) = await RunsApi.ReadJsonAsync(http, ct);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, List<string>>();
        var body = JsonBody.Object(root, errors);
        if (body is null) return Problems.Validation(errors);
        var name = body.String("name", SavedViewRules.MaxNameLength, required: true);
        var query = body.String("query", SavedViewRules.MaxQueryLength);
        if (query is null && !errors.ContainsKey("query")) body.Fail("query", "is required: the list's query string, \"\" for the whole list");
        var replace = body.Bool("replace") ?? false;
        body.RejectUnknown();
        if (errors.Count > 0 || name is null) return Problems.Validation(errors);
        var (normalized, queryErrors) = SavedViewRules.NormalizeViewQuery(query, http.Caller());
        if (queryErrors is not null) return Problems.BadParameters(queryErrors);
        var (result, error) = await SaveAsync(http, store, name, normalized!, replace, ct);
        if (error is not null) return Problems.BadParameter(error);
        var view = result!.Value!;
        return result.Outcome switch
        {
            WriteOutcome.Created => Results.Created($"{Routes.ApiViews}/{view.Id.ToString(CultureInfo.InvariantCulture)}", SavedViewJson.From(view)),
            WriteOutcome.Ok => Results.Ok(SavedViewJson.From(view)),
            _ => Problems.Status(WriteOutcomeStatus.Of(result.Outcome), "Conflict",
                result.Value is null ? result.Reason! : $"A view named “{name.Trim()}” already exists — choose another name, or send \"replace\": true to save it again with this query."),
        };
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, SavedViewStore store, CancellationToken ct) =>
        await RemoveAsync(id, http, store, ct)
            ? Results.NoContent()
            : Problems.Status(StatusCodes.Status404NotFound, "View not found", $"No saved view '{id}' is visible to you.");

    /// The runs page's "Save this view" form: to the saved view's page (303; htmx: `HX-Redirect`), or the reason as the
    /// UI's error fragment, which htmx puts beside the form (the page, its filter and the typed name stay) and which
    /// without script comes as a page whose way back is the list the form was posted from, its filter kept. A name
    /// taken comes with a form that saves the view of that name again with this filter (`replace=true`).
    private static async Task<IResult> SaveFormAsync(HttpContext http, SavedViewStore store, CancellationToken ct)
    {
        var form = await ReadFormAsync(http, ct);
        if (form is null) return Html(Fragments.BadParameter(new BadParameter("body", "must be a form with name and query")));
        var (query, queryErrors) = SavedViewRules.NormalizeQuery(form.TryGetValue("query", out var q) ? q.ToString() : null, http.Caller());
        if (queryErrors is not null) return Html(Fragments.BadParameters(queryErrors));
        var back = Routes.RunsFor(query!);
        var name = form.TryGetValue("name", out var n) ? n.ToString() : null;
        if (SavedViewRules.CheckName(name) is { } nameProblem) return Html(Fragments.BadParameter(new BadParameter("name", nameProblem)), back);
        bool replace;
        switch (form.TryGetValue("replace", out var r) ? r.ToString() : null)
        {
            case null: replace = false; break;
            case "true": replace = true; break;
            default: return Html(Fragments.BadParameter(new BadParameter("replace", "accepts true, or is left out")), back);
        }
        var (result, error) = await SaveAsync(http, store, name!, query!, replace, ct);
        if (error is not null) return Html(Fragments.BadParameter(error), back);
        if (result!.Outcome == WriteOutcome.Conflict && result.Value is { } taken)
            return Html(Fragments.Html(StatusCodes.Status409Conflict, NameTakenHtml(http, taken, query!)), back);
        if (result.Outcome is not (WriteOutcome.Created or WriteOutcome.Ok))
            return Html(Fragments.Html(WriteOutcomeStatus.Of(result.Outcome), $"<p class=\"error\" role=\"alert\">{WebUtility.HtmlEncode(result.Reason)}</p>"), back);
        if (!http.Request.IsHtmx()) return SeeOther(result.Value!.Url);
        // htmx would follow a 303 itself and put the whole runs page beside the form: the browser goes there instead.
        http.Response.Htmx(h => h.Redirect(result.Value!.Url));
        return Results.NoContent();
    }

    /// A saved view's delete button on the runs page: back to the runs page (303), or 404.
    private static async Task<IResult> DeleteFormAsync(string id, HttpContext http, SavedViewStore store, CancellationToken ct) =>
        await RemoveAsync(id, http, store, ct) ? SeeOther(Routes.Runs) : Html(Fragments.Html(StatusCodes.Status404NotFound, "<p>View not found</p>"));

    /// Saves `query` (as `SavedViewRules.NormalizeQuery` wrote it) under `name`.
    private static async Task<(WriteResult<SavedViewRow>? Result, BadParameter? Error)> SaveAsync(HttpContext http, SavedViewStore store,
        string name, string query, bool replace, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!StorableText.IsStorable(name)) return (null, new BadParameter("name", StorableText.Rule));
        var createdBy = http.User.Identity?.Name ?? caller.Role;
        return (await store.SaveAsync(SavedViewRules.ScopeOf(caller), name.Trim(), query, createdBy, replace, ct), null);
    }

    /// A name taken, said beside the form: what the view of that name shows now, and a form (its own, so it works from
    /// the no-script 409 page too) that saves it again with the filter just posted.
    private static string NameTakenHtml(HttpContext http, SavedViewRow taken, string query)
    {
        var name = WebUtility.HtmlEncode(taken.Name);
        var shows = taken.Query.Length == 0 ? "every run" : $"<code class=\"mono\">{WebUtility.HtmlEncode(taken.Query)}</code>";
        var tokens = http.RequestServices.GetRequiredService<Microsoft.AspNetCore.Antiforgery.IAntiforgery>().GetAndStoreTokens(http);
        return $"""
            <p class="error" role="alert">A view named “{name}” already exists — choose another name, or replace it.</p>
            <form class="save-view-replace" method="post" action="{Routes.ViewsSave}" hx-post="{Routes.ViewsSave}" hx-target="#save-view-answer" hx-swap="innerHTML">
            <p class="muted">It shows {shows}.</p>
            <input type="hidden" name="name" value="{name}">
            <input type="hidden" name="query" value="{WebUtility.HtmlEncode(query)}">
            <input type="hidden" name="replace" value="true">
            <input type="hidden" name="{WebUtility.HtmlEncode(tokens.FormFieldName)}" value="{WebUtility.HtmlEncode(tokens.RequestToken)}">
            <button type="submit" class="btn btn-small">Replace “{name}” with this filter</button>
            </form>
            """;
    }

    private static async Task<bool> RemoveAsync(string id, HttpContext http, SavedViewStore store, CancellationToken ct) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var viewId)
        && await store.DeleteAsync(SavedViewRules.ScopeOf(http.Caller()), viewId, ct);

    private static async Task<IFormCollection?> ReadFormAsync(HttpContext http, CancellationToken ct)
    {
        if (!http.Request.HasFormContentType) return null;
        try
        {
            return await http.Request.ReadFormAsync(ct);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException)
        {
            return null;
        }
    }

    // 303: the browser follows a form's POST with a GET of the page.
    private static IResult SeeOther(string url) => new SeeOtherResult(url);

    /// The forms' answers: an error as `ErrorPages` writes it (the form posted without script is the browser's own
    /// navigation, which gets a page around the fragment, its way back to `back`).
    private static IResult Html(Microsoft.AspNetCore.Mvc.ContentResult content, string? back = null) => content.StatusCode >= 400
        ? ErrorPages.Result(content.StatusCode.Value, content.Content ?? "", back)
        : Results.Content(content.Content, content.ContentType, statusCode: content.StatusCode);

    private sealed class SeeOtherResult(string url) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = StatusCodes.Status303SeeOther;
            http.Response.Headers.Location = url;
            return Task.CompletedTask;
        }
    }
}
