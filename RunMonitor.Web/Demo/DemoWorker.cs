using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Demo;

/// Keeps the demo alive the way a real engine would: it queues a new run every few seconds, and as
/// a worker it claims queued runs (new ones and retries) with a lease, reports their steps (each
/// write renews the lease), resumes a partial retry after its completed steps, and stops a run
/// whose cancel was requested. All through the same service the HTTP API uses.
public sealed class DemoWorker(RunService service, RunQueue queue, RunViews store, PriceTable prices, TimeProvider time,
    WorkerBook workers, ILogger<DemoWorker> logger) : BackgroundService
{
    public const string WorkerName = "demo-worker-1";
    private const int Capacity = 3;
    internal const int LeaseSeconds = 30;
    private static readonly Caller Engine = new(null, Roles.Admin);
    private static readonly Caller[] Claimers = DemoCatalog.Tenants.Select(t => new Caller(t, Roles.Ingest)).ToArray();
    private static readonly ClaimRequest Claim = new(WorkerName, DemoCatalog.Workflows.Select(w => w.Name).ToList(), LeaseSeconds);
    private static readonly WorkerHeartbeat Heartbeat = new(DemoCatalog.Workflows.Select(w => w.Name).ToList(), "demo-host", "demo-engine/2.3.1");
    private readonly Random _random = new();
    private readonly Dictionary<string, Job> _active = new();

    /// A claimed run: its steps in plan order, the one running now (-1: none yet) and when it started, how it will end.
    private sealed record Job(RunRow Run, IReadOnlyList<StepRow> Steps, int Current, string Outcome, int FailAt)
    {
        public DateTimeOffset CurrentStartedAt { get; init; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new DemoRunFactory(_random, prices);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // It works for every demo tenant, so each tenant's workers page shows it alive.
                foreach (var tenant in DemoCatalog.Tenants)
                    await workers.BeatAsync(tenant, WorkerName, Heartbeat, stoppingToken);
                if (_random.NextDouble() < 0.4) await QueueAsync(factory, stoppingToken);
                while (_active.Count < Capacity && await ClaimAsync(factory, stoppingToken)) { }
                foreach (var id in _active.Keys.ToList()) await AdvanceAsync(factory, id, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Demo worker step failed; continuing");
            }
            await Task.Delay(TimeSpan.FromSeconds(_random.Next(2, 5)), time, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    /// What a trigger (a schedule, a button in another app) does: a new queued run.
    private async Task QueueAsync(DemoRunFactory factory, CancellationToken ct)
    {
        var workflow = factory.PickWorkflow();
        var tenant = factory.PickTenant();
        var name = factory.NameFor(workflow);
        await service.CreateAsync(Engine, new NewRun
        {
            TenantId = tenant, WorkflowName = workflow.Name, Name = name,
            TriggerPayload = factory.TriggerPayload(workflow, tenant, name), LayerHash = DemoRunFactory.LayerHash(workflow.Name),
            WorkflowVersion = workflow.Name == DemoCatalog.OmeercsWorkflow ? DemoCatalog.OmeercsVersion : null,
            TriggerType = workflow.Name == DemoCatalog.OmeercsWorkflow ? "initial" : null,
            Steps = workflow.Steps.Select(s => new PlannedStep(s.StepId, s.SkillId)).ToList(),
        }, ct);
    }

    private async Task<bool> ClaimAsync(DemoRunFactory factory, CancellationToken ct)
    {
        ClaimedRun? claimed = null;
        // Only the demo's own workflows in the demo's tenants: a run an engine queued through the API waits for its worker.
        // The tenants in turns from a random one, so none waits behind another's queue.
        var first = _random.Next(DemoCatalog.Tenants.Length);
        for (var i = 0; i < DemoCatalog.Tenants.Length && claimed is null; i++)
            claimed = (await queue.ClaimAsync(Claimers[(first + i) % Claimers.Length], Claim, ct)).Value;
        if (claimed is null) return false;
        var outcome = factory.PickOutcome();
        if (outcome is RunStatus.Dry or RunStatus.Cancelled) outcome = RunStatus.Completed;
        // A partial retry starts at its first step not already completed.
        var resumeAt = Math.Max(0, claimed.Steps.ToList().FindIndex(s => s.Status != StepStatus.Completed));
        var failAt = outcome == RunStatus.Failed && claimed.Steps.Count > resumeAt ? _random.Next(resumeAt, claimed.Steps.Count) : -1;
        _active[claimed.Run.Id] = new Job(claimed.Run, claimed.Steps, -1, outcome, failAt);
        await service.UpdateAsync(claimed.Run.TenantId, claimed.Run.Id, new RunPatch
        {
            Context = DemoCatalog.Json(new { engine = "demo-engine/2.3.1", host = WorkerName, resumedAt = resumeAt > 0 ? claimed.Steps[resumeAt].StepId : null }),
        }, ct);
        return true;
    }

    private async Task AdvanceAsync(DemoRunFactory factory, string id, CancellationToken ct)
    {
        var job = _active[id];
        var now = time.GetUtcNow();

        if (job.Current >= 0)
        {
            var step = job.Steps[job.Current];
            var omeercs = job.Run.WorkflowName == DemoCatalog.OmeercsWorkflow;
            var failure = DemoCatalog.FailureOf(step.SkillId, omeercs, _random);
            await service.AppendLogsAsync(TenantOf(id), id, job.Current == job.FailAt
                ? DemoLogs.Failed(step, failure.Message, job.CurrentStartedAt, now) : DemoLogs.Finished(step, _random, job.CurrentStartedAt, now), ct);
            var cancel = await ReportAsync(id, step.StepId, job.Current == job.FailAt
                ? new StepUpsert
                {
                    Status = StepStatus.Failed, CompletedAt = now, ErrorGiven = true, ErrorMessage = failure.Message, ErrorStack = failure.Stack,
                    ErrorCode = omeercs ? DemoCatalog.ErrorCode(failure.Type) : null, ErrorAttempt = omeercs ? 1 : null, ErrorTimestamp = omeercs ? now : null,
                }
                : new StepUpsert { Status = StepStatus.Completed, CompletedAt = now, Output = factory.StepOutput(step.StepId) }, ct);
            if (cancel is null) { _active.Remove(id); return; }
            if (job.Current == job.FailAt)
            {
                // What the run used before it failed is reported with the failure, as an engine reports it.
                await service.UpdateAsync(TenantOf(id), id, Results(factory, job, RunStatus.Failed) with
                {
                    ErrorGiven = true,
                    Error = new RunErrorInfo(failure.Message, failure.Type, failure.Stack,
                        omeercs ? "STEP_FAILED" : null, omeercs ? step.StepId : null, omeercs ? now : null),
                }, ct);
                _active.Remove(id);
                return;
            }
            if (cancel == true) { await StopAsync(id, null, ct); return; }
        }

        var next = job.Steps.ToList().FindIndex(job.Current + 1, s => s.Status != StepStatus.Completed);
        if (next >= 0)
        {
            var step = job.Steps[next];
            var input = step.Input ?? DemoCatalog.Json(new { step = step.StepId, tenant = job.Run.TenantId });
            var cancel = await ReportAsync(id, step.StepId, new StepUpsert
            {
                Status = StepStatus.Running, StartedAt = now, Input = input,
                InputHash = job.Run.WorkflowName == DemoCatalog.OmeercsWorkflow ? DemoCatalog.InputHash(input) : null,
            }, ct);
            if (cancel is null) { _active.Remove(id); return; }
            await service.AppendLogsAsync(TenantOf(id), id, DemoLogs.Started(step, _random, now), ct);
            if (cancel == true) { await StopAsync(id, step.StepId, ct); return; }
            _active[id] = job with { Current = next, CurrentStartedAt = now };
            return;
        }

        // Every step done: report the results and finish.
        await service.UpdateAsync(TenantOf(id), id, Results(factory, job, job.Outcome), ct);
        _active.Remove(id);
    }

    /// The run's end with its metrics, model usage and (partial) errors, as a run of its workflow ending so would have them.
    private static RunPatch Results(DemoRunFactory factory, Job job, string outcome)
    {
        var workflow = DemoCatalog.Workflows.FirstOrDefault(w => w.Name == job.Run.WorkflowName) ?? DemoCatalog.Workflows[0];
        var made = factory.Finished(job.Run.Id, job.Run.TenantId, workflow, DbTime.Parse(job.Run.CreatedAt), outcome);
        var done = made.Run;
        return new RunPatch
        {
            Status = outcome,
            Metrics = new RunMetrics(done.TargetsMatched, done.TargetsProcessed, done.TargetsSkipped, done.InsightsCreated),
            Usage = done.ModelName is null ? null : new RunUsage(done.ModelProfile, done.ModelProvider, done.ModelName, done.TokensInput, done.TokensOutput, null),
            // A run queued with steps of its own (or of a workflow the catalog lacks) keeps only errors naming its steps.
            Errors = outcome == RunStatus.Partial ? made.Errors.Where(e => job.Steps.Any(s => s.StepId == e.Node)).ToList() : null,
        };
    }

    /// Writes a step and reads back whether a cancel was requested; null when the run is gone or
    /// already finished (the lease expired, or someone ended it).
    private async Task<bool?> ReportAsync(string id, string stepId, StepUpsert step, CancellationToken ct)
    {
        var written = await service.UpsertStepAsync(TenantOf(id), id, stepId, step, ct);
        if (written.Outcome != WriteOutcome.Ok) return null;
        var run = await store.GetAsync(TenantOf(id), id, ct);
        if (run is null || RunStatus.IsTerminal(run.Status)) return null;
        return run.IsCancelRequested;
    }

    // The tenant of a run this worker holds: its id alone may also be another tenant's run.
    private string? TenantOf(string id) => _active.TryGetValue(id, out var job) ? job.Run.TenantId : null;

    /// The run's cancel was requested: stop the running step and end the run as cancelled.
    private async Task StopAsync(string id, string? runningStep, CancellationToken ct)
    {
        if (runningStep is not null)
            await service.UpsertStepAsync(TenantOf(id), id, runningStep, new StepUpsert { Status = StepStatus.Cancelled, CompletedAt = time.GetUtcNow() }, ct);
        await service.UpdateAsync(TenantOf(id), id, new RunPatch { Status = RunStatus.Cancelled }, ct);
        _active.Remove(id);
    }
}
