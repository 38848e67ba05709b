using System.Text.Json;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Api;

/// The worker protocol's and the control endpoints' bodies.
public static partial class IngestParser
{
    public static ClaimRequest? ParseClaim(JsonElement root, Dictionary<string, List<string>> errors)
    {
        var body = JsonBody.Object(root, errors);
        if (body is null) return null;
        var worker = body.String("worker", 200, required: true);
        if (worker is not null && WorkerName.Problem(worker) is { } problem)
        {
            body.Fail("worker", problem);
            worker = null;
        }
        var workflows = body.Strings("workflows", 100, 200);
        var lease = body.Count("leaseSeconds", ClaimRequest.MinLeaseSeconds, ClaimRequest.MaxLeaseSeconds);
        body.RejectUnknown();
        if (errors.Count > 0 || worker is null) return null;
        return new ClaimRequest(worker, workflows ?? [], (int)(lease ?? ClaimRequest.DefaultLeaseSeconds));
    }

    /// An empty body is a whole retry.
    public static RetryRequest? ParseRetry(JsonElement root, Dictionary<string, List<string>> errors)
    {
        if (root.ValueKind == JsonValueKind.Undefined) return new RetryRequest();
        var body = JsonBody.Object(root, errors);
        if (body is null) return null;
        var fromFailed = body.Bool("fromFailedStep");
        var fromStep = body.String("fromStep", 128, IdPattern(), IdText);
        // The same JSON and size limit as ingest's triggerPayload; JSON null (or none) keeps the old run's.
        var payload = body.RawJson("triggerPayload");
        var runAgain = body.Bool("runAgain");
        body.RejectUnknown();
        if (fromFailed == true && fromStep is not null) body.Fail("fromStep", "cannot be combined with fromFailedStep; give one of them");
        if (runAgain == true && (fromFailed == true || fromStep is not null)) body.Fail("runAgain", "starts the whole run again; it cannot be combined with fromStep or fromFailedStep");
        if (errors.Count > 0) return null;
        return new RetryRequest(fromFailed ?? false, fromStep) { PayloadEdited = payload is not null, TriggerPayload = payload, RunAgain = runAgain ?? false };
    }
}
