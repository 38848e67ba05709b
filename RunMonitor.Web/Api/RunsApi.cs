using System.Text.Json;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// The JSON read API and the engines' ingest API (SPEC "JSON API", "Ingest and worker API").
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        app.MapRead(Routes.ApiRuns, ListAsync).RequireAuthorization(Policies.RequireRead);
        app.MapPost(Routes.ApiRuns, CreateAsync).RequireAuthorization(Policies.RequireRead, Policies.RequireIngest).AcceptsQuery();
        app.MapRead(Routes.ApiRun, GetAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery(RunTenant.Parameter);
        app.MapPatch(Routes.ApiRun, PatchAsync).RequireAuthorization(Policies.RequireRead, Policies.RequireIngest).AcceptsQuery(RunTenant.Parameter);
        app.MapRead(Routes.ApiRunSteps, StepsAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery(RunTenant.Parameter);
        app.MapPut(Routes.ApiRunStep, PutStepAsync).RequireAuthorization(Policies.RequireRead, Policies.RequireIngest).AcceptsQuery(RunTenant.Parameter);
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, RunList store, CancellationToken ct)
    {
        var (filter, errors) = RunFilter.Parse(http.Request.Query.ToPairs(), http.Caller());
        if (errors is not null) return Problems.BadParameters(errors);
        var page = await store.SummariesAsync(filter!, ct);
        // A script reading by `after` alone keeps no offset: a page short of its limit is the last one either way.
        var more = page.Items.Count == filter!.Limit && (filter.Cursor is not null || page.HasMoreAfter(filter.Offset, page.Items.Count));
        var next = more ? RunCursor.From(page.Items[^1], filter!, before: false).Token : null;
        int? offset = filter.Cursor is not null && !http.Request.Query.ContainsKey("offset") ? null : filter.Offset;
        return Results.Ok(new RunListJson(page.Items.Select(RunSummaryJson.From).ToList(), page.Total, offset, filter.Limit, page.TotalCapped, page.SearchedNewest, next));
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, RunViews store, CancellationToken ct)
    {
        var detail = await store.GetDetailAsync(RunTenant.Of(http), id, ct);
        return detail is null ? Problems.RunNotFound(id) : Results.Ok(RunJson.From(detail.Run, detail.Errors));
    }

    private static async Task<IResult> StepsAsync(string id, HttpContext http, RunViews store, CancellationToken ct)
    {
        var run = await store.GetAsync(RunTenant.Of(http), id, ct);
        if (run is null) return Problems.RunNotFound(id);
        var steps = await store.GetStepsAsync(run, ct);
        return Results.Ok(steps.Select(StepJson.From).ToList());
    }

    private static async Task<IResult> CreateAsync(HttpContext http, RunService service, RunList list, CancellationToken ct)
    {
        var (root, bad) = await ReadJsonAsync(http, ct);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, List<string>>();
        var request = IngestParser.ParseCreate(root, errors);
        if (request is null) return Problems.Validation(errors);
        var result = await service.CreateAsync(http.Caller(), request, ct);
        if (result.Outcome != WriteOutcome.Created) return Problems.From(result, request.Id);
        // The answer is the row just committed, not a second read of it.
        var run = result.Value!;
        // A super admin may give a run the id of another tenant's run: its URL then names its tenant, or it would
        // answer 409 (ambiguous). An id the server made is its own.
        var shared = request.Id is not null && http.Caller().IsSuperAdmin && (await list.SharedIdsAsync([run], ct)).Count > 0;
        return Results.Created(UrlFor(http, run, shared), RunJson.From(run, RunWrites.ErrorRows(run, request.Patch.Errors ?? [])));
    }

    private static async Task<IResult> PatchAsync(string id, HttpContext http, RunService service, RunViews store, CancellationToken ct)
    {
        var (root, bad) = await ReadJsonAsync(http, ct);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, List<string>>();
        var patch = IngestParser.ParsePatch(root, errors, id);
        if (patch is null) return Problems.Validation(errors);
        var result = await service.UpdateAsync(RunTenant.Of(http), id, patch, ct, http.Caller().Actor);
        if (result.Outcome != WriteOutcome.Ok) return Problems.From(result, id);
        var detail = await store.GetDetailAsync(result.Value!.TenantId, id, ct);
        return Results.Ok(RunJson.From(detail!.Run, detail.Errors));
    }

    private static async Task<IResult> PutStepAsync(string id, string stepId, HttpContext http, RunService service, RunViews store, CancellationToken ct)
    {
        if (!IngestParser.IdPattern().IsMatch(stepId))
            return Problems.Validation(new() { ["stepId"] = [$"must be {IngestParser.IdText}"] });
        var (root, bad) = await ReadJsonAsync(http, ct);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, List<string>>();
        var request = IngestParser.ParseStep(root, errors, id, stepId);
        if (request is null) return Problems.Validation(errors);
        var result = await service.UpsertStepAsync(RunTenant.Of(http), id, stepId, request, ct);
        if (result.Outcome != WriteOutcome.Ok) return Problems.From(result, id);
        var run = await store.GetAsync(result.Value!.TenantId, id, ct);
        var steps = await store.GetStepsAsync(run!, ct);
        var index = steps.ToList().FindIndex(s => s.StepId == stepId);
        // The worker learns of a cancel from any write's response.
        return Results.Ok(new { step = StepJson.From(steps[index], index), cancelRequested = run!.IsCancelRequested });
    }

    /// A run's API URL; a super admin's carries its tenant, as the same id may be another tenant's run too.
    public static string UrlFor(HttpContext http, RunRow run, bool idShared = false) =>
        Routes.Path(Routes.ApiRun, ("id", run.Id)) + RunTenant.QueryFor(http, run.TenantId, idShared);

    internal static async Task<(JsonElement Root, IResult? Bad)> ReadJsonAsync(HttpContext http, CancellationToken ct)
    {
        if (BodyType.Refuse(http.Request.ContentType, "send the body as application/json") is { } refused) return (default, refused);
        try
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = JsonAnswer.BodyDepth }, ct);
            if (JsonBody.FindInvalidText(doc.RootElement) is { } field)
                return (default, Problems.Validation(new() { [field] = [StorableText.Rule] }));
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (default, Problems.Validation(new() { ["body"] = [$"is not valid JSON: {e.Message}"] }));
        }
        catch (BadHttpRequestException e)
        {
            return (default, BodyRefused(e));
        }
    }

    /// The server refused the body while it was read: over its size limit (413), or cut short.
    internal static IResult BodyRefused(BadHttpRequestException e) => e.StatusCode == StatusCodes.Status413PayloadTooLarge
        ? Problems.Status(e.StatusCode, "Request body too large", e.Message)
        : Problems.Status(e.StatusCode, "Bad request body", e.Message);
}
