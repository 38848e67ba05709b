using System.Text.Json;
using System.Text.Json.Nodes;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// The worker protocol and the operators' commands (SPEC "Ingest and worker API", "JSON API").
public static class ControlApi
{
    public static IEndpointRouteBuilder MapControlApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.ApiQueueClaim, ClaimAsync).RequireAuthorization(Policies.RequireIngest).AcceptsQuery();
        app.MapPost(Routes.ApiRunRetry, RetryAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery(RunTenant.Parameter);
        app.MapDelete(Routes.ApiRun, CancelAsync).RequireAuthorization(Policies.RequireOperator).AcceptsQuery(RunTenant.Parameter);
        return app;
    }

    /// 200 with the run, now `running` and leased, and its `steps`; 204 when nothing waits.
    private static async Task<IResult> ClaimAsync(HttpContext http, RunQueue service, CancellationToken ct)
    {
        var (root, bad) = await RunsApi.ReadJsonAsync(http, ct);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, List<string>>();
        var request = IngestParser.ParseClaim(root, errors);
        if (request is null) return Problems.Validation(errors);
        var result = await service.ClaimAsync(http.Caller(), request, ct);
        if (result.Outcome != WriteOutcome.Ok) return Problems.From(result, null);
        if (result.Value is not { } claimed) return Results.NoContent();
        var body = JsonSerializer.SerializeToNode(RunJson.From(claimed.Run, claimed.Errors), JsonAnswer.Options)!.AsObject();
        body["steps"] = JsonSerializer.SerializeToNode(claimed.Steps.Select(StepJson.From).ToList(), JsonAnswer.Options);
        return Results.Json(body);
    }

    /// 201 `{newRunId}` with `Location` of the new run.
    private static async Task<IResult> RetryAsync(string id, HttpContext http, RunQueue service, CancellationToken ct)
    {
        var (root, bad) = await ReadOptionalJsonAsync(http, ct);
        if (bad is not null) return bad;
        var errors = new Dictionary<string, List<string>>();
        var request = IngestParser.ParseRetry(root, errors);
        if (request is null) return Problems.Validation(errors);
        var result = await service.RetryAsync(http.Caller(), RunTenant.Of(http), id, request, ct);
        if (result.Outcome != WriteOutcome.Created) return Problems.From(result, id);
        return Results.Created(RunsApi.UrlFor(http, result.Value!), new { newRunId = result.Value!.Id });
    }

    /// 200 with the cancelled run; 202 with the run when its worker has been asked to stop.
    private static async Task<IResult> CancelAsync(string id, HttpContext http, RunQueue service, RunViews store, CancellationToken ct)
    {
        var result = await service.CancelAsync(http.Caller(), RunTenant.Of(http), id, ct);
        if (result.Outcome != WriteOutcome.Ok) return Problems.From(result, id);
        var detail = await store.GetDetailAsync(result.Value!.TenantId, id, ct);
        var json = RunJson.From(detail!.Run, detail.Errors);
        return detail.Run.Status == RunStatus.Cancelled ? Results.Ok(json) : Results.Json(json, statusCode: StatusCodes.Status202Accepted);
    }

    /// Like `ReadJsonAsync`, but an empty body is allowed (Undefined root).
    internal static async Task<(JsonElement Root, IResult? Bad)> ReadOptionalJsonAsync(HttpContext http, CancellationToken ct)
    {
        http.Request.EnableBuffering();
        var first = new byte[1];
        int read;
        try
        {
            read = await http.Request.Body.ReadAsync(first, ct);
        }
        catch (BadHttpRequestException e)
        {
            return (default, RunsApi.BodyRefused(e));
        }
        if (read == 0) return (default, null);
        http.Request.Body.Position = 0;
        return await RunsApi.ReadJsonAsync(http, ct);
    }
}
