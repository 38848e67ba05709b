using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// The whole stored JSON of one field, as written: where the JSON viewer's "view whole value" links
/// point when a payload or string is too long to render.
public static class PayloadApi
{
    public static readonly IReadOnlyList<string> RunFields = ["triggerPayload", "context"];
    public static readonly IReadOnlyList<string> StepFields = ["input", "output"];

    /// `tenantQuery`: RunTenant.QueryFor the viewer, so a super admin's link names the run's tenant.
    public static string RunUrl(string runId, string field, string tenantQuery = "") =>
        Routes.Path(Routes.ApiRunPayload, ("id", runId), ("field", field)) + tenantQuery;

    public static string StepUrl(string runId, string stepId, string field, string tenantQuery = "") =>
        Routes.Path(Routes.ApiStepPayload, ("id", runId), ("stepId", stepId), ("field", field)) + tenantQuery;

    public static IEndpointRouteBuilder MapPayloadApi(this IEndpointRouteBuilder app)
    {
        app.MapRead(Routes.ApiRunPayload, RunFieldAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery(RunTenant.Parameter);
        app.MapRead(Routes.ApiStepPayload, StepFieldAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery(RunTenant.Parameter);
        return app;
    }

    private static async Task<IResult> RunFieldAsync(string id, string field, HttpContext http, RunViews store, CancellationToken ct)
    {
        if (!RunFields.Contains(field)) return Problems.BadParameter(new BadParameter("field", "accepts triggerPayload or context"));
        var run = await store.GetAsync(RunTenant.Of(http), id, ct);
        if (run is null) return Problems.RunNotFound(id);
        return Raw(field == "context" ? run.Context : run.TriggerPayload);
    }

    private static async Task<IResult> StepFieldAsync(string id, string stepId, string field, HttpContext http, RunViews store, CancellationToken ct)
    {
        if (!StepFields.Contains(field)) return Problems.BadParameter(new BadParameter("field", "accepts input or output"));
        if (await store.GetAsync(RunTenant.Of(http), id, ct) is not { } run) return Problems.RunNotFound(id);
        var step = await store.GetStepAsync(run, stepId, ct);
        if (step is null)
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Step not found", detail: $"Run '{id}' has no step '{stepId}'.");
        return Raw(field == "input" ? step.Input : step.Output);
    }

    // Stored JSON is valid JSON (ingest parsed it); an absent value is JSON null.
    private static IResult Raw(string? json) => Results.Text(json ?? "null", "application/json; charset=utf-8");
}
