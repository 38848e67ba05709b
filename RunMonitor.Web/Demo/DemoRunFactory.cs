using System.Security.Cryptography;
using System.Text;
using RunMonitor.Web.Runs;
using static RunMonitor.Web.Demo.DemoCatalog;

namespace RunMonitor.Web.Demo;

/// A finished (or planned) realistic run with its steps and errors list, for demo history and seeding.
public sealed record DemoRun(RunRow Run, IReadOnlyList<StepRow> Steps, IReadOnlyList<ErrorEntry> Errors)
{
    /// How a retry was asked for, as its activity says it: `whole` or `from failed step …`; null for a run that is none.
    public string? RetryHow { get; init; }
}

/// Makes realistic runs: statuses in believable proportions, step timings, targets, tokens and cost,
/// stack traces on failures and errors lists on partial runs.
/// With `payloadVariants` above zero, each kind of JSON payload is made that many times and then reused,
/// which keeps a million-run seed fast while the payloads still vary.
public sealed class DemoRunFactory(Random random, PriceTable prices, int payloadVariants = 0)
{
    private readonly Dictionary<string, List<string>> _pool = new(StringComparer.Ordinal);
    // A later attempt's input, one a step, tenant and attempt (no draw of the random: a seed's runs stay as they were).
    private readonly Dictionary<string, string> _retried = new(StringComparer.Ordinal);

    private string Pooled(string key, Func<string> make)
    {
        if (payloadVariants <= 0) return make();
        if (!_pool.TryGetValue(key, out var variants)) _pool[key] = variants = new List<string>(payloadVariants);
        if (variants.Count < payloadVariants)
        {
            var made = make();
            variants.Add(made);
            return made;
        }
        return variants[random.Next(variants.Count)];
    }

    public Workflow PickWorkflow() => Workflows[random.Next(Workflows.Length)];

    public string PickTenant() => Tenants[random.Next(Tenants.Length)];

    public string NameFor(Workflow workflow) => workflow.Name switch
    {
        "campaign_generation" => CampaignNames[random.Next(CampaignNames.Length)],
        "channel-digest" => $"Digest {Channels[random.Next(Channels.Length)]}",
        "weekly-self-reflection" => "Weekly self-reflection",
        _ => "Nightly user reflection",
    };

    public static string LayerHash(string workflow) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(workflow + ":v3")))[..12];

    public string PickOutcome()
    {
        var roll = random.NextDouble();
        return roll switch
        {
            < 0.70 => RunStatus.Completed,
            < 0.80 => RunStatus.Partial,
            < 0.90 => RunStatus.Failed,
            < 0.95 => RunStatus.Dry,
            _ => RunStatus.Cancelled,
        };
    }

    /// The payload a run of `workflow` named `name` is triggered with: a digest's names the channel its name does.
    public string? TriggerPayload(Workflow workflow, string tenant, string name) => workflow.Name == "channel-digest"
        ? Pooled("trigger:" + workflow.Name + ":" + tenant + ":" + name, () => Json(new { channel = name["Digest ".Length..], window = "24h", trigger = "schedule" }))
        : Pooled("trigger:" + workflow.Name + ":" + tenant, () => MakeTriggerPayload(workflow, tenant));

    private string MakeTriggerPayload(Workflow workflow, string tenant) => workflow.Name switch
    {
        "campaign_generation" => Json(new
        {
            campaignId = $"cmp_{random.Next(1000, 9999)}",
            tenant,
            template = random.Next(2) == 0 ? "spin-wheel" : "scratch-card",
            locale = random.Next(3) switch { 0 => "en-US", 1 => "de-DE", _ => "fr-FR" },
            prizes = new[] { new { tier = 1, label = "20% off" }, new { tier = 2, label = "Free shipping" } },
        }),
        _ => Json(new { schedule = workflow.Name.StartsWith("weekly", StringComparison.Ordinal) ? "0 3 * * 1" : "0 2 * * *", trigger = "cron" }),
    };

    /// A run that has reached `outcome`, created at `createdAt`.
    public DemoRun Finished(string id, string tenant, Workflow workflow, DateTimeOffset createdAt, string outcome) =>
        Finished(id, tenant, workflow, createdAt, outcome, null);

    /// A retry of `original` (a run of a catalog workflow), made at `createdAt` as RunMonitor's retry makes it (same
    /// tenant, workflow, name, payload, layer hash and steps; from the failed step, the steps before it carry their
    /// results), then run by a worker from its first waiting step to `outcome`.
    public DemoRun Retried(DemoRun original, string id, DateTimeOffset createdAt, string outcome, bool fromFailedStep)
    {
        var workflow = Workflows.Single(w => w.Name == original.Run.WorkflowName);
        var resumeAt = fromFailedStep ? original.Steps.ToList().FindIndex(s => s.Status == StepStatus.Failed) : 0;
        if (resumeAt < 0) throw new ArgumentException($"run {original.Run.Id} has no failed step to retry from", nameof(original));
        var (run, steps) = RunQueue.Retried(original.Run, original.Steps, resumeAt, id, createdAt, original.Run.TriggerPayload);
        var retried = Finished(id, run.TenantId, workflow, createdAt, outcome, new Retry(run, steps, resumeAt));
        return retried with { RetryHow = fromFailedStep ? $"from failed step {original.Steps[resumeAt].StepId}" : "whole" };
    }

    /// A retry as RunMonitor queued it, and the step its worker resumes at.
    private sealed record Retry(RunRow Run, IReadOnlyList<StepRow> Steps, int ResumeAt);

    private DemoRun Finished(string id, string tenant, Workflow workflow, DateTimeOffset createdAt, string outcome, Retry? retry)
    {
        var queueWait = TimeSpan.FromMilliseconds(random.Next(200, 20_000));
        var startedAt = createdAt + queueWait;
        var at = startedAt;
        var steps = new List<StepRow>();
        var resumeAt = retry?.ResumeAt ?? 0;
        var failAt = outcome != RunStatus.Failed ? -1 : retry is null ? random.Next(workflow.Steps.Length) : random.Next(resumeAt, workflow.Steps.Length);
        var cancelAt = outcome != RunStatus.Cancelled ? -1 : retry is null ? random.Next(workflow.Steps.Length) : random.Next(resumeAt, workflow.Steps.Length);
        var stopped = false;
        string? failedType = null;
        for (var i = 0; i < workflow.Steps.Length; i++)
        {
            var (stepId, skillId, min, max) = workflow.Steps[i];
            // A retry's step as it was queued: the carried ones stay as they are, the others keep its attempt and input.
            var queued = retry?.Steps[i];
            if (i < resumeAt)
            {
                steps.Add(queued!);
                continue;
            }
            if (stopped || (outcome == RunStatus.Cancelled && i > cancelAt))
            {
                var waiting = Step(tenant, id, i, stepId, skillId, stopped && outcome == RunStatus.Cancelled ? StepStatus.Cancelled : StepStatus.Pending, null, null);
                steps.Add(queued is null ? waiting : waiting with { Attempt = queued.Attempt, Input = queued.Input });
                continue;
            }
            var ms = random.Next(min, max);
            var cacheHit = random.NextDouble() < 0.2;
            if (cacheHit) ms = random.Next(20, 120);
            var stepStart = at;
            at += TimeSpan.FromMilliseconds(ms);
            var status = i == failAt ? StepStatus.Failed : i == cancelAt ? StepStatus.Cancelled : StepStatus.Completed;
            var omeercs = workflow.Name == DemoCatalog.OmeercsWorkflow;
            var failure = FailureOf(skillId, omeercs, random);
            var input = Pooled("input:" + stepId + ":" + tenant, () => Json(new { step = stepId, tenant, attempt = 1 }));
            // The attempt the step reports is the one its input names (a retry's: the one RunMonitor gave it). Drawn
            // after the pool, as before, so a seed's runs stay what they were.
            long attempt = queued?.Attempt ?? (status == StepStatus.Failed ? random.Next(1, 4) : random.NextDouble() < 0.08 ? 2 : 1);
            if (attempt != 1)
            {
                var key = $"input:{stepId}:{tenant}:{attempt}";
                if (!_retried.TryGetValue(key, out var retried)) _retried[key] = retried = Json(new { step = stepId, tenant, attempt });
                input = retried;
            }
            steps.Add(Step(tenant, id, i, stepId, skillId, status, stepStart, at) with
            {
                InputHash = omeercs ? DemoCatalog.InputHash(input) : null,
                ErrorCode = omeercs && status == StepStatus.Failed ? DemoCatalog.ErrorCode(failure.Type) : null,
                CacheHit = cacheHit && status == StepStatus.Completed ? 1 : 0,
                Attempt = attempt,
                Input = input,
                Output = status == StepStatus.Completed ? StepOutput(stepId) : null,
                ErrorMessage = status == StepStatus.Failed ? failure.Message : null,
                ErrorStack = status == StepStatus.Failed ? failure.Stack : null,
            });
            if (status == StepStatus.Failed) failedType = failure.Type;
            if (status != StepStatus.Completed) stopped = true;
        }

        var errors = new List<ErrorEntry>();
        long? matched = null, processed = null, skipped = null, insights = null, tokensIn = null, tokensOut = null;
        string? profile = null, provider = null, model = null;
        if (workflow.Reflection)
        {
            matched = random.Next(5, 400);
            skipped = outcome == RunStatus.Partial ? random.Next(1, Math.Max(2, (int)matched / 8)) : 0;
            processed = outcome is RunStatus.Failed or RunStatus.Cancelled ? random.Next(0, (int)matched) : matched - skipped;
            insights = outcome == RunStatus.Dry ? 0 : (long)(processed * (0.4 + random.NextDouble()));
            (profile, provider, model) = Models[random.Next(Models.Length)];
            tokensIn = processed * random.Next(900, 4000) + random.Next(500, 3000);
            tokensOut = processed * random.Next(120, 700);
            if (outcome == RunStatus.Partial)
            {
                var skips = PartialErrors[workflow.Name];
                for (var e = 0; e < Math.Min(skipped ?? 1, 4); e++)
                {
                    var (topic, error, node) = skips[random.Next(skips.Length)];
                    errors.Add(new ErrorEntry(topic, error, node));
                }
            }
        }
        else if (workflow.Name == "campaign_generation")
        {
            (profile, provider, model) = ("campaign-writer", "openai", "gpt-4o-mini");
            tokensIn = random.Next(2_000, 9_000);
            tokensOut = random.Next(800, 3_000);
            if (outcome == RunStatus.Partial)
                errors.Add(new ErrorEntry("asset:bgm", "Fell back to the default track: generated audio failed loudness check", "bgm_track"));
        }

        var completedAt = at + TimeSpan.FromMilliseconds(random.Next(50, 400));
        var failed = steps.FirstOrDefault(s => s.Status == StepStatus.Failed);
        var cost = prices.Estimate(model, tokensIn, tokensOut);
        var name = retry?.Run.Name ?? NameFor(workflow);
        var run = new RunRow
        {
            Id = id, TenantId = tenant, WorkflowName = workflow.Name, Name = name, Status = outcome,
            DryRun = retry?.Run.DryRun ?? (outcome == RunStatus.Dry ? 1 : 0), TriggerPayload = retry is null ? TriggerPayload(workflow, tenant, name) : retry.Run.TriggerPayload,
            Context = Pooled("context", () => Json(new { engine = "demo-engine/2.3.1", host = $"worker-{random.Next(1, 4)}", region = "eu-west-1" })),
            ErrorMessage = failed?.ErrorMessage, ErrorType = failedType,
            ErrorStack = failed?.ErrorStack,
            CreatedAt = DbTime.ToDb(createdAt), StartedAt = DbTime.ToDb(startedAt), CompletedAt = DbTime.ToDb(completedAt),
            DurationMs = (long)(completedAt - startedAt).TotalMilliseconds,
            TargetsMatched = matched, TargetsProcessed = processed, TargetsSkipped = skipped, InsightsCreated = insights,
            ModelProfile = profile, ModelProvider = provider, ModelName = model, TokensInput = tokensIn, TokensOutput = tokensOut,
            CostUsd = cost, CostEstimated = 0, LayerHash = retry is null ? LayerHash(workflow.Name) : retry.Run.LayerHash, RetryOf = retry?.Run.RetryOf,
            // RunMonitor's retry carries neither, and the demo worker reports neither for a run it claims.
            WorkflowVersion = workflow.Name == DemoCatalog.OmeercsWorkflow && retry is null ? DemoCatalog.OmeercsVersion : null,
            TriggerType = workflow.Name == DemoCatalog.OmeercsWorkflow && retry is null ? "initial" : null,
            ErrorCode = workflow.Name == DemoCatalog.OmeercsWorkflow && failed is not null ? "STEP_FAILED" : null,
            ErrorFailedStepId = workflow.Name == DemoCatalog.OmeercsWorkflow ? failed?.StepId : null,
            StepsTotal = steps.Count, StepsCompleted = steps.Count(s => s.Status == StepStatus.Completed),
            UpdatedAt = DbTime.ToDb(completedAt),
        };
        return new DemoRun(run, steps, errors);
    }

    private static StepRow Step(string tenant, string runId, int seq, string stepId, string skillId, string status, DateTimeOffset? start, DateTimeOffset? end) => new()
    {
        TenantId = tenant, RunId = runId, StepId = stepId, Seq = seq, SkillId = skillId, Status = status,
        StartedAt = DbTime.ToDb(start), CompletedAt = DbTime.ToDb(end),
        DurationMs = start is { } s && end is { } e ? (long)(e - s).TotalMilliseconds : null,
        UpdatedAt = DbTime.ToDb(end ?? start ?? DateTimeOffset.UnixEpoch),
    };

    public string StepOutput(string stepId) => Pooled("output:" + stepId, () => MakeStepOutput(stepId));

    private string MakeStepOutput(string stepId) => stepId switch
    {
        "game_config" => Json(new { difficulty = "medium", rounds = random.Next(3, 8), theme = "festive", seed = random.Next() }),
        "bgm_track" => Json(new { track = $"bgm_{random.Next(100, 999)}.ogg", bpm = random.Next(90, 140), lufs = -14.2 }),
        "bundle_game" => Json(new { bundle = "game.bundle.js", sizeBytes = random.Next(200_000, 900_000), chunks = random.Next(2, 6) }),
        "manifest" => Json(new { url = $"https://cdn.example.test/c/{random.Next(10000, 99999)}/index.html", version = 3 }),
        "select_targets" or "gather_history" or "fetch_messages" => Json(new { count = random.Next(5, 400) }),
        "store_insights" => Json(new { stored = random.Next(1, 200) }),
        _ => Json(new { summary = "Users engaged most with limited-time offers; two cohorts show churn risk.", confidence = Math.Round(random.NextDouble(), 2) }),
    };
}
