using System.Text.Json;
using System.Text.RegularExpressions;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Api;

/// Turns ingest bodies into typed requests, naming each bad field.
public static partial class IngestParser
{
    public const string IdText = "1-128 characters of letters, digits, _ . : - starting with a letter or digit";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
    public static partial Regex IdPattern();

    // `/ui/runs/{id}` opens a run, but these segments are routes of their own there (any case: routes ignore it),
    // so a run with such an id could never be opened from the dashboard.
    private static readonly HashSet<string> ReservedRunIds = new(["list", "stats", "recent", "export.csv", "export.json"], StringComparer.OrdinalIgnoreCase);

    private const int NameLength = 500;
    private const int TextLength = 1_000_000;

    public static NewRun? ParseCreate(JsonElement root, Dictionary<string, List<string>> errors)
    {
        var body = JsonBody.Object(root, errors);
        if (body is null) return null;
        var id = body.String("id", 128, IdPattern(), IdText);
        if (id is not null && ReservedRunIds.Contains(id))
            body.Fail("id", $"'{id}' names a page of the dashboard (/ui/runs/{id.ToLowerInvariant()}); choose another id");
        var tenant = body.String("tenantId", 64, RunFilter.TenantPattern(), "1-64 of a-z, 0-9, _ and -");
        var workflow = body.String("workflowName", 200, required: true);
        var name = body.String("name", NameLength);
        var dryRun = body.Bool("dryRun");
        var payload = body.RawJson("triggerPayload");
        var layerHash = body.String("layerHash", 200);
        var createdAt = body.Time("createdAt");
        var steps = new List<PlannedStep>();
        if (body.Array("steps", 1000) is { } stepBodies)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < stepBodies.Count; i++)
            {
                var s = stepBodies[i];
                var stepId = s.String("stepId", 128, IdPattern(), IdText, required: true);
                var skillId = s.String("skillId", 200);
                s.RejectUnknown();
                if (stepId is null) continue;
                if (!seen.Add(stepId)) s.Fail("stepId", $"repeats '{stepId}'; step ids are unique within a run");
                else steps.Add(new PlannedStep(stepId, skillId));
            }
        }
        var patch = ReadPatch(body);
        body.RejectUnknown();
        if (errors.Count > 0 || workflow is null) return null;
        if (patch.Status == RunStatus.Dry) dryRun = true;
        return new NewRun
        {
            Id = id, TenantId = tenant, WorkflowName = workflow, Name = name, DryRun = dryRun ?? false,
            TriggerPayload = payload, LayerHash = layerHash, Steps = steps, CreatedAt = createdAt, Patch = patch,
        };
    }

    public static RunPatch? ParsePatch(JsonElement root, Dictionary<string, List<string>> errors)
    {
        var body = JsonBody.Object(root, errors);
        if (body is null) return null;
        var patch = ReadPatch(body);
        body.RejectUnknown();
        return errors.Count > 0 ? null : patch;
    }

    private static RunPatch ReadPatch(JsonBody body)
    {
        var status = body.Status("status", RunStatus.Normalize, RunStatus.AcceptedWords);
        var startedAt = body.Time("startedAt");
        var completedAt = body.Time("completedAt");
        var errorGiven = body.Has("error");
        RunErrorInfo? error = null;
        if (body.Child("error") is { } e)
        {
            error = new RunErrorInfo(e.String("message", TextLength, freeText: true), e.String("type", 500), e.String("stack", TextLength, freeText: true));
            e.RejectUnknown();
        }
        List<ErrorEntry>? errorsList = null;
        if (body.Array("errors", 1000) is { } items)
        {
            errorsList = [];
            foreach (var item in items)
            {
                var topic = item.String("topic", 500, required: true);
                var message = item.String("error", TextLength, required: true, freeText: true);
                var node = item.String("node", 500);
                item.RejectUnknown();
                if (topic is not null && message is not null) errorsList.Add(new ErrorEntry(topic, message, node));
            }
        }
        RunMetrics? metrics = null;
        if (body.Child("metrics") is { } m)
        {
            metrics = new RunMetrics(m.Count("targetsMatched"), m.Count("targetsProcessed"), m.Count("targetsSkipped"), m.Count("insightsCreated"));
            m.RejectUnknown();
        }
        RunUsage? usage = null;
        if (body.Child("usage") is { } u)
        {
            usage = new RunUsage(u.String("profile", 200), u.String("provider", 200), u.String("model", 200),
                u.Count("tokensInput"), u.Count("tokensOutput"), u.Money("costUsd"));
            u.RejectUnknown();
        }
        var context = body.RawJson("context");
        return new RunPatch
        {
            Status = status, StartedAt = startedAt, CompletedAt = completedAt, ErrorGiven = errorGiven, Error = error,
            Errors = errorsList, Metrics = metrics, Usage = usage, Context = context,
        };
    }

    public static StepUpsert? ParseStep(JsonElement root, Dictionary<string, List<string>> errors)
    {
        var body = JsonBody.Object(root, errors);
        if (body is null) return null;
        var skillId = body.String("skillId", 200);
        var status = body.Status("status", StepStatus.Normalize, StepStatus.AcceptedWords);
        var startedAt = body.Time("startedAt");
        var completedAt = body.Time("completedAt");
        var durationMs = body.Count("durationMs");
        var cacheHit = body.Bool("cacheHit");
        var attempt = body.Count("attempt", 1, 1000);
        var input = body.RawJson("input");
        var output = body.RawJson("output");
        var errorGiven = body.Has("error");
        string? message = null, stack = null;
        if (body.Child("error") is { } e)
        {
            message = e.String("message", TextLength, freeText: true);
            stack = e.String("stack", TextLength, freeText: true);
            e.RejectUnknown();
        }
        body.RejectUnknown();
        if (startedAt is { } s && completedAt is { } c && c < s) body.Fail("completedAt", "must not be before startedAt");
        if (errors.Count > 0) return null;
        return new StepUpsert
        {
            SkillId = skillId, Status = status, StartedAt = startedAt, CompletedAt = completedAt, DurationMs = durationMs,
            CacheHit = cacheHit, Attempt = attempt, Input = input, Output = output,
            ErrorGiven = errorGiven, ErrorMessage = message, ErrorStack = stack,
        };
    }
}
