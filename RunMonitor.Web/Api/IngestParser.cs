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
    private const int CodeLength = 200;

    public static NewRun? ParseCreate(JsonElement root, Dictionary<string, List<string>> errors, IReadOnlyList<string>? known = null)
    {
        var body = JsonBody.Object(root, errors, known: known);
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
        var workflowVersion = body.String("workflowVersion", 50);
        var triggerType = body.String("triggerType", 40);
        if (triggerType is not null && triggerType is not ("initial" or "update"))
        {
            body.Fail("triggerType", "must be initial or update");
            triggerType = null;
        }
        var baseRunId = body.String("baseRunId", 128, IdPattern(), IdText);
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
            TriggerPayload = payload, LayerHash = layerHash, WorkflowVersion = workflowVersion, TriggerType = triggerType,
            BaseRunId = baseRunId, Steps = steps, CreatedAt = createdAt, Patch = patch,
        };
    }

    public static RunPatch? ParsePatch(JsonElement root, Dictionary<string, List<string>> errors, IReadOnlyList<string>? known = null)
    {
        var body = JsonBody.Object(root, errors, known: known);
        if (body is null) return null;
        var patch = ReadPatch(body);
        body.RejectUnknown();
        return errors.Count > 0 ? null : patch;
    }

    /// A run's or a step's end given before its start in the same body: refused, not stored with its duration made 0.
    private static void EndNotBeforeStart(JsonBody body, DateTimeOffset? startedAt, DateTimeOffset? completedAt, string endField)
    {
        if (startedAt is { } s && completedAt is { } c && c < s) body.Fail(endField, "must not be before startedAt");
    }

    private static RunPatch ReadPatch(JsonBody body)
    {
        var status = body.Status("status", RunStatus.Normalize, RunStatus.AcceptedWords);
        var startedAt = body.Time("startedAt");
        var completedAt = body.Time("completedAt");
        EndNotBeforeStart(body, startedAt, completedAt, "completedAt");
        var errorGiven = body.Has("error");
        RunErrorInfo? error = null;
        if (body.Child("error") is { } e)
        {
            error = new RunErrorInfo(e.String("message", TextLength, freeText: true), e.String("type", 500), e.String("stack", TextLength, freeText: true),
                e.String("code", CodeLength), e.String("failedStepId", 128, IdPattern(), IdText), e.Time("timestamp"));
            e.RejectUnknown();
        }
        List<ErrorEntry>? errorsList = null;
        if (body.Array("errors", 1000) is { } items)
        {
            errorsList = [];
            foreach (var item in items)
            {
                var topic = item.String("topic", 500);
                var message = item.String("error", TextLength, required: true, freeText: true);
                var node = item.String("node", 500);
                item.RejectUnknown();
                if (message is not null) errorsList.Add(new ErrorEntry(topic, message, node));
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

    /// `stepId` is the step the URL names: an omeercs RunStep carries it in its body too, and may, if it agrees.
    public static StepUpsert? ParseStep(JsonElement root, Dictionary<string, List<string>> errors, string stepId, IReadOnlyList<string>? known = null)
    {
        var body = JsonBody.Object(root, errors, known: known);
        if (body is null) return null;
        if (body.String("stepId", 128) is { } named && named != stepId)
            body.Fail("stepId", $"is '{named}' but the URL names step '{stepId}'; leave it out or make them agree");
        var skillId = body.String("skillId", 200);
        var status = body.Status("status", StepStatus.Normalize, StepStatus.AcceptedWords);
        var startedAt = body.Time("startedAt");
        var completedAt = body.Time("completedAt");
        // omeercs's RunStep says endedAt; one of the two names, never both.
        var endedAt = body.Time("endedAt");
        if (body.Has("endedAt") && body.Has("completedAt")) body.Fail("endedAt", "is another name for completedAt; give one of them");
        else completedAt ??= endedAt;
        var inputHash = body.String("inputHash", 128);
        var outputArtifactIds = body.StringsJson("outputArtifactIds", 100, 200);
        var durationMs = body.Count("durationMs");
        var cacheHit = body.Bool("cacheHit");
        var attempt = body.Count("attempt", 1, 1000);
        var input = body.RawJson("input");
        var output = body.RawJson("output");
        var errorGiven = body.Has("error");
        string? message = null, stack = null, code = null, details = null;
        long? errorAttempt = null;
        DateTimeOffset? errorAt = null;
        if (body.Child("error") is { } e)
        {
            message = e.String("message", TextLength, freeText: true);
            stack = e.String("stack", TextLength, freeText: true);
            code = e.String("code", CodeLength);
            errorAttempt = e.Count("attempt", 1, 1000);
            errorAt = e.Time("timestamp");
            details = e.RawJsonObject("details");
            e.RejectUnknown();
        }
        body.RejectUnknown();
        EndNotBeforeStart(body, startedAt, completedAt, body.Has("endedAt") ? "endedAt" : "completedAt");
        if (errors.Count > 0) return null;
        return new StepUpsert
        {
            SkillId = skillId, Status = status, StartedAt = startedAt, CompletedAt = completedAt, DurationMs = durationMs,
            CacheHit = cacheHit, Attempt = attempt, Input = input, Output = output,
            InputHash = inputHash, OutputArtifactIds = outputArtifactIds,
            ErrorGiven = errorGiven, ErrorMessage = message, ErrorStack = stack, ErrorCode = code, ErrorAttempt = errorAttempt,
            ErrorTimestamp = errorAt, ErrorDetails = details,
        };
    }
}
