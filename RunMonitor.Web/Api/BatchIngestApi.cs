using System.Text.Json;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// `POST /api/ingest`: NDJSON of `run`, `update`, `step` and `log` events, applied in order in one transaction.
/// Every line is checked before any is applied; the first bad one is answered 400 naming its number and field.
public static class BatchIngestApi
{
    public static IEndpointRouteBuilder MapBatchIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.ApiIngest, IngestAsync).RequireAuthorization(Policies.RequireRead, Policies.RequireIngest).AcceptsQuery(RunTenant.Parameter);
        return app;
    }

    public const string Types = "run, update, step or log";

    private static async Task<IResult> IngestAsync(HttpContext http, BatchIngest batch, CancellationToken ct)
    {
        var caller = http.Caller();
        if (http.Request.Query.TryGetValue(RunTenant.Parameter, out var named)
            && (!caller.IsSuperAdmin || named.Count != 1 || RunFilter.TenantId(named.ToString()) is null))
        {
            return Problems.BadParameter(new BadParameter(RunTenant.Parameter, caller.IsSuperAdmin
                ? $"accepts one tenant id: {RunFilter.TenantText}" : "is for super admins only; your key sees its own tenant's runs"));
        }
        // A plain log event (the bulk of a busy engine's batches) is read straight from its bytes, once.
        var (lines, refused) = await LineBody.ReadAsync(http, arrayAllowed: false, ct, IngestParser.TryReadBatchLog);
        if (refused is not null) return refused;
        var parsed = new List<BatchLine>(lines!.Count);
        foreach (var line in lines!)
        {
            if (line.Read is BatchLine read)
            {
                parsed.Add(read);
                continue;
            }
            var errors = new Dictionary<string, List<string>>();
            var one = Parse(line, errors);
            if (one is null)
            {
                // The first bad line is the answer: its number and field, as `line N.field`.
                var prefixed = errors.ToDictionary(e => e.Key.StartsWith("line ", StringComparison.Ordinal) ? e.Key : $"line {line.Number}.{e.Key}", e => e.Value);
                return Problems.Validation(prefixed);
            }
            parsed.Add(one);
        }
        var (applied, refusal) = await batch.ApplyAsync(caller, RunTenant.Of(http), parsed, ct);
        if (refusal is not null)
        {
            return Results.Problem(statusCode: WriteOutcomeStatus.Of(refusal.Outcome), title: "The batch was not applied",
                detail: $"line {refusal.Line.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({refusal.Field}): {refusal.Reason}; nothing was applied",
                extensions: new Dictionary<string, object?> { ["line"] = refusal.Line, ["field"] = refusal.Field });
        }
        return Results.Ok(new { applied });
    }

    /// One line as its event; null with `errors` (keyed by field) when it is bad.
    private static BatchLine? Parse(LineBody.Line line, Dictionary<string, List<string>> errors)
    {
        if (line.Value.ValueKind != JsonValueKind.Object)
        {
            errors[$"line {line.Number}"] = ["must be a JSON object with a type"];
            return null;
        }
        var type = line.Value.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "run":
                var create = IngestParser.ParseCreate(line.Value, errors, RunKeys);
                return create is null ? null : new BatchCreate(line.Number, create);
            case "update":
                var updateId = RunId(line.Value, "id", errors);
                var patch = IngestParser.ParsePatch(line.Value, errors, updateId ?? "", UpdateKeys);
                return patch is null || updateId is null ? null : new BatchUpdate(line.Number, updateId, patch);
            case "step":
                var stepRunId = RunId(line.Value, "runId", errors);
                var stepId = RunId(line.Value, "stepId", errors);
                if (stepId is null) return null;
                var step = IngestParser.ParseStep(line.Value, errors, stepRunId ?? "", stepId, EventKeys);
                return step is null || stepRunId is null ? null : new BatchStep(line.Number, stepRunId, stepId, step);
            case "log":
                var logRunId = RunId(line.Value, "runId", errors);
                var body = JsonBody.Object(line.Value, errors, known: EventKeys)!;
                var logLine = IngestParser.ParseLogLine(body, null);
                return logLine is null || logRunId is null ? null : new BatchLog(line.Number, logRunId, logLine);
            default:
                errors["type"] = [type is null ? $"is required: {Types}" : $"is '{type}'; must be {Types}"];
                return null;
        }
    }

    private static string? RunId(JsonElement value, string name, Dictionary<string, List<string>> errors)
    {
        if (value.TryGetProperty(name, out var id) && id.ValueKind == JsonValueKind.String && IngestParser.IdPattern().IsMatch(id.GetString()!))
            return id.GetString();
        errors[name] = [value.TryGetProperty(name, out _) ? $"must be {IngestParser.IdText}" : "is required"];
        return null;
    }

    // The event's own keys, read here: the single call's parser (which refuses fields it does not know) reads the rest
    // of the same parsed line, passing over these.
    private static readonly string[] RunKeys = ["type"];
    private static readonly string[] UpdateKeys = ["type", "id"];
    private static readonly string[] EventKeys = ["type", "runId"];
}
