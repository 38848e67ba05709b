using System.Globalization;
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
    // The most JSON text a name of NameLength characters takes: each written as an escape (`\uXXXX`), and its quotes.
    private const int MaxRawName = NameLength * 6 + 2;
    private const int TextLength = 1_000_000;
    private const int CodeLength = 200;
    private const int MaxSteps = 1000;

    public static NewRun? ParseCreate(JsonElement root, Dictionary<string, List<string>> errors, IReadOnlyList<string>? known = null)
    {
        var body = JsonBody.Object(root, errors, known: known);
        if (body is null) return null;
        var id = body.String("id", 128, IdPattern(), IdText);
        if (id is not null && ReservedRunIds.Contains(id))
            body.Fail("id", $"'{id}' names a page of the dashboard (/ui/runs/{id.ToLowerInvariant()}); choose another id");
        var created = ReadCreateFields(body, workflowRequired: true);
        var name = body.String("name", NameLength) ?? CampaignName(root);
        var dryRun = body.Bool("dryRun");
        var createdAt = body.Time("createdAt");
        var steps = new List<PlannedStep>();
        List<StepRecord>? records = null;
        if (body.Array("steps", MaxSteps) is { } stepBodies)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < stepBodies.Count; i++)
            {
                var s = stepBodies[i];
                var stepId = s.String("stepId", 128, IdPattern(), IdText, required: true);
                // A step given whole (an older omeercs Run's `steps` relation: RunStep entities) is planned in its place
                // and reported as its PUT is; a step of ids only is planned, as before. A refused run id is the id's
                // error alone: its steps are not told the run has none.
                StepUpsert? record = null;
                if (s.HasOtherThan("stepId", "skillId")) record = ReadStep(s, id, "the record names", runIdRefused: id is null && body.Has("id"));
                var skillId = record is null ? s.String("skillId", 200) : record.SkillId;
                if (record is null) s.RejectUnknown();
                if (stepId is null) continue;
                if (!seen.Add(stepId)) s.Fail("stepId", $"repeats '{stepId}'; step ids are unique within a run");
                else
                {
                    steps.Add(new PlannedStep(stepId, skillId));
                    if (record is not null) (records ??= []).Add(new StepRecord(i, stepId, record));
                }
            }
        }
        var patch = ReadPatch(body);
        body.RejectUnknown();
        if (errors.Count > 0 || created.WorkflowName is null) return null;
        if (patch.Status == RunStatus.Dry) dryRun = true;
        return new NewRun
        {
            Id = id, TenantId = created.TenantId, WorkflowName = created.WorkflowName, Name = name, DryRun = dryRun ?? false,
            TriggerPayload = created.TriggerPayload, LayerHash = created.LayerHash, WorkflowVersion = created.WorkflowVersion,
            TriggerType = created.TriggerType, BaseRunId = created.BaseRunId, Steps = steps, StepRecords = (IReadOnlyList<StepRecord>?)records ?? [], CreatedAt = createdAt,
            Patch = patch,
        };
    }

    /// A run's display name is its campaign's (SPEC), and omeercs names none: its campaign's name is in the trigger
    /// payload (`campaign_name`, the manifest step's input). Taken as the name when it would pass as one, so the table
    /// shows it and a search by it finds the run; otherwise the run is shown by its workflow, as without a name.
    private static string? CampaignName(JsonElement root)
    {
        if (!root.TryGetProperty("triggerPayload", out var payload) || payload.ValueKind != JsonValueKind.Object) return null;
        foreach (var field in (ReadOnlySpan<string>)["campaign_name", "campaignName"])
        {
            // Its raw length first: a payload may hold a megabyte there, which is no name and not worth a string.
            if (payload.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
                && System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value).Length <= MaxRawName
                && value.GetString() is { Length: <= NameLength } text && !string.IsNullOrWhiteSpace(text) && Security.DisguisedText.Find(text) is null)
                return text;
        }
        return null;
    }

    /// What a run is created with, by the names given (Zos's `layer_name`, `layer_hash`), checked alike on a create and
    /// on an update that repeats it (an engine's whole record).
    private readonly record struct CreateFields(string? TenantId, string WorkflowField, string? WorkflowName, string? WorkflowVersion,
        string? TriggerType, string? BaseRunId, string HashField, string? LayerHash, string? TriggerPayload);

    private static CreateFields ReadCreateFields(JsonBody body, bool workflowRequired)
    {
        var tenant = ReadTenant(body);
        var workflowField = body.Alias("workflowName", "layer_name");
        var workflow = body.String(workflowField, 200, required: workflowRequired);
        var payload = body.RawJson("triggerPayload");
        var hashField = body.Alias("layerHash", "layer_hash");
        var layerHash = body.String(hashField, 200);
        var workflowVersion = body.String("workflowVersion", 50);
        var triggerType = body.String("triggerType", 40);
        if (triggerType is not null && triggerType is not ("initial" or "update"))
        {
            body.Fail("triggerType", "must be initial or update");
            triggerType = null;
        }
        var baseRunId = body.String("baseRunId", 128, IdPattern(), IdText);
        return new CreateFields(tenant, workflowField, workflow, workflowVersion, triggerType, baseRunId, hashField, layerHash, payload);
    }

    /// A body's `tenantId` as stored and compared: omeercs sends its Clerk organization id, capitals and all.
    private static string? ReadTenant(JsonBody body) =>
        RunFilter.TenantId(body.String("tenantId", 64, RunFilter.TenantPattern(), RunFilter.TenantText));

    /// `runId`: the run the URL names (a batch line's `id`, read by the batch).
    public static RunPatch? ParsePatch(JsonElement root, Dictionary<string, List<string>> errors, string runId, IReadOnlyList<string>? known = null)
    {
        var body = JsonBody.Object(root, errors, known: known);
        if (body is null) return null;
        var repeated = ReadRepeated(body, runId, known);
        var patch = ReadPatch(body);
        var steps = ReadStepRecords(body, runId);
        body.RejectUnknown();
        if (errors.Count > 0) return null;
        if (steps is not null) patch = patch with { Steps = steps };
        return repeated is null ? patch : patch with { Repeated = repeated };
    }

    /// What a run was created with, as an engine's whole record repeats it in an update: omeercs re-sends its entity
    /// (`tenantId`, `workflowName`, `workflowVersion`, `triggerType`, `triggerPayload`, `baseRunId`, `createdAt`), Zos
    /// its row (`id`, `layer_name`, `layer_hash`). Checked here as on a create; compared with the run when it is read
    /// (`RunService.ChangedOnUpdate`). The `id` must be the URL's; `createdAt` is checked as a time, not compared: a
    /// run created without one was dated by the store. Null when none is given.
    private static List<RepeatedField>? ReadRepeated(JsonBody body, string runId, IReadOnlyList<string>? known)
    {
        List<RepeatedField>? repeated = null;
        void Add(string field, string? value)
        {
            if (value is not null) (repeated ??= []).Add(new RepeatedField(field, value));
        }
        if (known?.Contains("id") != true) AgreesWithUrl(body, "id", body.String("id", 128), "run", runId);
        var created = ReadCreateFields(body, workflowRequired: false);
        Add("tenantId", created.TenantId);
        Add(created.WorkflowField, created.WorkflowName);
        Add("workflowVersion", created.WorkflowVersion);
        Add("triggerType", created.TriggerType);
        Add("baseRunId", created.BaseRunId);
        Add(created.HashField, created.LayerHash);
        Add("triggerPayload", created.TriggerPayload);
        body.Time("createdAt");
        return repeated;
    }

    /// An update's `steps` (an older omeercs entity sent whole holds its RunStep entities there): each reported as its
    /// PUT is, a step of ids only too (planned after the run's steps when it is new). Null when absent.
    private static List<StepRecord>? ReadStepRecords(JsonBody body, string runId)
    {
        if (body.Array("steps", MaxSteps) is not { } stepBodies) return null;
        var records = new List<StepRecord>(stepBodies.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < stepBodies.Count; i++)
        {
            var s = stepBodies[i];
            var stepId = s.String("stepId", 128, IdPattern(), IdText, required: true);
            var record = ReadStep(s, runId, "the URL names");
            if (stepId is null) continue;
            if (!seen.Add(stepId)) s.Fail("stepId", $"repeats '{stepId}'; step ids are unique within a run");
            else records.Add(new StepRecord(i, stepId, record));
        }
        return records;
    }

    /// A field an engine's record repeats from the URL (its own ids): refused when it names another `what` than the URL's.
    /// `source` says where the expected value comes from ("the URL names"); a null `fromUrl` is not checked.
    private static void AgreesWithUrl(JsonBody body, string field, string? given, string what, string? fromUrl, string source = "the URL names")
    {
        if (given is not null && fromUrl is not null && given != fromUrl)
            body.Fail(field, $"is '{given}' but {source} {what} '{fromUrl}'; leave it out or make them agree");
    }

    /// A run's or a step's end given before its start in the same body: refused, not stored with its duration made 0.
    private static void EndNotBeforeStart(JsonBody body, DateTimeOffset? startedAt, DateTimeOffset? completedAt, string endField)
    {
        if (startedAt is { } s && completedAt is { } c && c < s) body.Fail(endField, "must not be before startedAt");
    }

    /// Zos's own API answers a run with `duration_seconds`, its `completed_at` less its `started_at` (null until both are
    /// known): a record taken from there is checked against its two times and not kept, as `tokens_total` is.
    private static void ZosDuration(JsonBody body, DateTimeOffset? startedAt, DateTimeOffset? completedAt)
    {
        if (body.Seconds("duration_seconds") is not { } seconds) return;
        if (startedAt is not { } start || completedAt is not { } end)
            body.Fail("duration_seconds", "is kept as completed_at - started_at; give those two");
        else if (Math.Abs((end - start).TotalSeconds - seconds) > 0.001)
            body.Fail("duration_seconds", string.Create(CultureInfo.InvariantCulture,
                $"is {seconds} but completed_at - started_at is {(end - start).TotalSeconds} s; it is kept as their difference, so they must agree"));
    }

    /// A PATCH's fields, and the tail of a create's. Zos's `layer_runs` record names them as its columns do: `started_at`,
    /// `completed_at`, and the metrics and usage as columns of the run (`targets_matched`, `model_name`, …), where this
    /// API nests them; each is read in its field's place, and both names of one field given is refused.
    private static RunPatch ReadPatch(JsonBody body)
    {
        // JSON null clears what can be empty (`Cleared`); a status cannot be. A time or a duration given as null keeps
        // the stored one: engines' records say null there until they know it (Zos's `completed_at`, omeercs's `durationMs`).
        body.NullRefused("status", "a run always has a status");
        var status = body.Status("status", RunStatus.Normalize, RunStatus.AcceptedWords);
        var startedAt = body.Time(body.Alias("startedAt", "started_at"));
        var endField = body.Alias("completedAt", "completed_at");
        var completedAt = body.Time(endField);
        // Zos inserts its `layer_runs` row before the layer runs, `dry` with `completed_at` null ("Placeholder until
        // complete"), and updates that row with the final status when it ends: `dry` again only for a dry run, then with
        // its end. A `dry` whose end is given as null is that placeholder, a run under way: taken as `dry`, the run
        // counted as a finished dry run (its end made the time it arrived) and the final update was refused (409).
        var placeholder = status == RunStatus.Dry && body.IsNull(endField);
        if (placeholder) status = RunStatus.Running;
        EndNotBeforeStart(body, startedAt, completedAt, endField);
        if (body.Has("duration_seconds")) ZosDuration(body, startedAt, completedAt);
        // omeercs's Run keeps its duration; given, it is the run's (as a step's is), else it comes from the two times.
        var durationMs = body.Count("durationMs");
        // omeercs's entity says when it last changed: checked as a time, not kept. RunMonitor dates each change itself
        // (the run's activity), as it receives it.
        body.Time("updatedAt");
        var errorGiven = body.Has("error");
        RunErrorInfo? error = null;
        if (body.Child("error") is { } e)
        {
            error = new RunErrorInfo(e.String("message", TextLength, freeText: true), e.String("type", 500), e.String("stack", TextLength, freeText: true),
                e.String("code", CodeLength), e.String("failedStepId", 128, IdPattern(), IdText), e.Time("timestamp"));
            e.RejectUnknown();
        }
        // Null empties the list, as [] does.
        List<ErrorEntry>? errorsList = body.IsNull("errors") ? [] : null;
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
        var cleared = body.NullClears("metrics", Cleared.Metrics) | body.NullClears("usage", Cleared.Usage) | body.NullClears("context", Cleared.Context);
        var m = body.Child("metrics");
        var flatMetrics = false;
        long? Metric(string name, string column, Cleared flag)
        {
            var (from, field) = Column(body, m, "metrics", name, column, ref flatMetrics);
            if (from is not null) cleared |= from.NullClears(field, flag);
            return from?.Count(field);
        }
        var (matched, processed, skipped, insights) = (Metric("targetsMatched", "targets_matched", Cleared.TargetsMatched),
            Metric("targetsProcessed", "targets_processed", Cleared.TargetsProcessed), Metric("targetsSkipped", "targets_skipped", Cleared.TargetsSkipped),
            Metric("insightsCreated", "insights_created", Cleared.InsightsCreated));
        var metrics = m is null && !flatMetrics ? null : new RunMetrics(matched, processed, skipped, insights);
        m?.RejectUnknown();

        var u = body.Child("usage");
        var flatUsage = false;
        string? Text(string name, string column, Cleared flag)
        {
            var (from, field) = Column(body, u, "usage", name, column, ref flatUsage);
            if (from is not null) cleared |= from.NullClears(field, flag);
            return from?.String(field, 200);
        }
        long? Tokens(string name, string column, Cleared flag)
        {
            var (from, field) = Column(body, u, "usage", name, column, ref flatUsage);
            if (from is not null) cleared |= from.NullClears(field, flag);
            return from?.Count(field);
        }
        var (profile, provider, model) = (Text("profile", "model_profile", Cleared.Profile), Text("provider", "model_provider", Cleared.Provider),
            Text("model", "model_name", Cleared.Model));
        var (tokensIn, tokensOut) = (Tokens("tokensInput", "tokens_input", Cleared.TokensInput), Tokens("tokensOutput", "tokens_output", Cleared.TokensOutput));
        var (costFrom, costField) = Column(body, u, "usage", "costUsd", "estimated_cost_usd", ref flatUsage);
        if (costFrom is not null) cleared |= costFrom.NullClears(costField, Cleared.CostUsd);
        var cost = costFrom?.Money(costField);
        // Zos keeps the sum of the two as a column too: RunMonitor keeps the two and shows their sum, so the sum is
        // checked against them, not kept.
        if (body.HasSnakeCaseNames && body.Has("tokens_total"))
        {
            flatUsage = true;
            if (body.Count("tokens_total") is { } total)
            {
                if (tokensIn is null && tokensOut is null)
                    body.Fail("tokens_total", "is kept as tokens_input + tokens_output; give those two");
                else if ((tokensIn ?? 0) + (tokensOut ?? 0) is var sum && sum != total)
                    body.Fail("tokens_total", string.Create(CultureInfo.InvariantCulture,
                        $"is {total:N0} but tokens_input + tokens_output is {sum:N0}; it is kept as their sum, so they must agree"));
            }
        }
        var usage = u is null && !flatUsage ? null : new RunUsage(profile, provider, model, tokensIn, tokensOut, cost);
        u?.RejectUnknown();
        var context = body.RawJson("context");
        return new RunPatch
        {
            Status = status, Placeholder = placeholder, StartedAt = startedAt, CompletedAt = completedAt, ErrorGiven = errorGiven, Error = error,
            Errors = errorsList, Metrics = metrics, Usage = usage, Context = context, DurationMs = durationMs, Cleared = cleared,
        };
    }

    /// Where one metric or usage field is read: Zos's column of the run (`column`) when the body gives it, else the
    /// field of the nested object (`metrics`, `usage`; none when that is absent). `flat` is set when the column is given.
    private static (JsonBody? From, string Field) Column(JsonBody body, JsonBody? nested, string parent, string name, string column, ref bool flat)
    {
        if (!body.HasSnakeCaseNames || !body.Has(column)) return (nested, name);
        flat = true;
        if (nested is not null && nested.Has(name))
        {
            nested.Taken(name);
            body.Fail(column, $"is another name for {parent}.{name}; give one of them");
        }
        return (body, column);
    }

    /// `runId` and `stepId` are the run and step the URL names (a batch line's own fields): an omeercs RunStep carries
    /// them in its body too, and may, if they agree. Its other bookkeeping (its row's `id`, `tenantId`, `createdAt`,
    /// `updatedAt`) is checked, not kept: the tenant must be the run's (`StepUpsert.TenantId`), the rest says nothing
    /// a step here is found or dated by.
    public static StepUpsert? ParseStep(JsonElement root, Dictionary<string, List<string>> errors, string runId, string stepId,
        IReadOnlyList<string>? known = null)
    {
        var body = JsonBody.Object(root, errors, known: known);
        if (body is null) return null;
        AgreesWithUrl(body, "stepId", body.String("stepId", 128), "step", stepId);
        var step = ReadStep(body, runId, "the URL names", runIdTaken: known?.Contains("runId") == true);
        return errors.Count > 0 ? null : step;
    }

    /// A step's report, all but its `stepId` (read by the caller). `runId`, when the body gives it, must be the run's: the
    /// URL's, or the id of the run whose record holds the step (`source` says which); a run created without an id has
    /// none a step could name. `runIdTaken`: a batch line's `runId`, read by the batch. `runIdRefused`: the run's own id
    /// was given and refused (its error names it), so a step's `runId` has nothing to agree with.
    private static StepUpsert ReadStep(JsonBody body, string? runId, string source, bool runIdTaken = false, bool runIdRefused = false)
    {
        if (!runIdTaken)
        {
            var named = body.String("runId", 128);
            if (runId is null && named is not null && !runIdRefused)
                body.Fail("runId", $"is '{named}' but the run is given no id; give the run's id, or leave runId out");
            AgreesWithUrl(body, "runId", named, "run", runId, source);
        }
        var tenant = ReadTenant(body);
        body.String("id", 128);
        body.Time("createdAt");
        body.Time("updatedAt");
        // JSON null clears what a step may lack; its status, attempt and cache hit it always has. Its times and duration
        // given as null keep the stored ones, as a run's do (omeercs's pending RunStep says null there).
        body.NullRefused("status", "a step always has a status");
        body.NullRefused("attempt", "a step's attempt is always a number from 1");
        body.NullRefused("cacheHit", "a step is a cache hit or not (true or false)");
        var cleared = body.NullClears("skillId", Cleared.SkillId) | body.NullClears("input", Cleared.Input) | body.NullClears("output", Cleared.Output)
            | body.NullClears("inputHash", Cleared.InputHash) | body.NullClears("outputArtifactIds", Cleared.OutputArtifactIds);
        var skillId = body.String("skillId", 200);
        var status = body.Status("status", StepStatus.Normalize, StepStatus.AcceptedWords);
        var startedAt = body.Time("startedAt");
        // omeercs's RunStep says endedAt; one of the two names, never both.
        var endField = body.Alias("completedAt", "endedAt");
        var completedAt = body.Time(endField);
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
        EndNotBeforeStart(body, startedAt, completedAt, endField);
        return new StepUpsert
        {
            TenantId = tenant, SkillId = skillId, Status = status, StartedAt = startedAt, CompletedAt = completedAt, EndField = endField, DurationMs = durationMs,
            CacheHit = cacheHit, Attempt = attempt, Input = input, Output = output,
            InputHash = inputHash, OutputArtifactIds = outputArtifactIds,
            ErrorGiven = errorGiven, ErrorMessage = message, ErrorStack = stack, ErrorCode = code, ErrorAttempt = errorAttempt,
            ErrorTimestamp = errorAt, ErrorDetails = details, Cleared = cleared,
        };
    }
}
