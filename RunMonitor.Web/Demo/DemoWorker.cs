using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Demo;

/// Keeps the demo alive: starts a new run every few seconds and advances running ones step by
/// step through the same service the ingest API uses, ending them as real runs end.
public sealed class DemoWorker(RunService service, RunStore store, PriceTable prices, TimeProvider time, ILogger<DemoWorker> logger) : BackgroundService
{
    private static readonly Caller Engine = new(null, Roles.Admin);
    private readonly Random _random = new();
    private readonly Dictionary<string, (DemoCatalog.Workflow Workflow, int Next, string Outcome, int FailAt)> _active = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new DemoRunFactory(_random, prices);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_active.Count < 3 && _random.NextDouble() < 0.45) await StartAsync(factory, stoppingToken);
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

    private async Task StartAsync(DemoRunFactory factory, CancellationToken ct)
    {
        var workflow = factory.PickWorkflow();
        var tenant = factory.PickTenant();
        var request = new NewRun
        {
            TenantId = tenant, WorkflowName = workflow.Name, Name = factory.NameFor(workflow),
            TriggerPayload = factory.TriggerPayload(workflow, tenant), LayerHash = DemoRunFactory.LayerHash(workflow.Name),
            Steps = workflow.Steps.Select(s => new PlannedStep(s.StepId, s.SkillId)).ToList(),
        };
        var created = await service.CreateAsync(Engine, request, ct);
        if (created.Value is null) return;
        var outcome = factory.PickOutcome();
        if (outcome is RunStatus.Dry or RunStatus.Cancelled) outcome = RunStatus.Completed;
        _active[created.Value.Id] = (workflow, 0, outcome, outcome == RunStatus.Failed ? _random.Next(workflow.Steps.Length) : -1);
    }

    private async Task AdvanceAsync(DemoRunFactory factory, string id, CancellationToken ct)
    {
        var (workflow, next, outcome, failAt) = _active[id];
        var run = await store.GetAsync(null, id, ct);
        if (run is null || RunStatus.IsTerminal(run.Status)) { _active.Remove(id); return; }
        var now = time.GetUtcNow();
        if (run.Status == RunStatus.Queued)
        {
            await service.UpdateAsync(Engine, id, new RunPatch { Status = RunStatus.Running, Context = DemoCatalog.Json(new { engine = "demo-engine/2.3.1", host = "worker-1" }) }, ct);
        }
        if (run.IsCancelRequested)
        {
            await service.UpdateAsync(Engine, id, new RunPatch { Status = RunStatus.Cancelled }, ct);
            _active.Remove(id);
            return;
        }
        if (next > 0)
        {
            var (prevId, _, _, _) = workflow.Steps[next - 1];
            if (next - 1 == failAt)
            {
                var failure = DemoCatalog.Failures[_random.Next(DemoCatalog.Failures.Length)];
                await service.UpsertStepAsync(Engine, id, prevId, new StepUpsert { Status = StepStatus.Failed, CompletedAt = now, ErrorGiven = true, ErrorMessage = failure.Message, ErrorStack = failure.Stack.Trim() }, ct);
                await service.UpdateAsync(Engine, id, new RunPatch { Status = RunStatus.Failed, ErrorGiven = true, Error = new RunErrorInfo(failure.Message, failure.Type, failure.Stack.Trim()) }, ct);
                _active.Remove(id);
                return;
            }
            await service.UpsertStepAsync(Engine, id, prevId, new StepUpsert { Status = StepStatus.Completed, CompletedAt = now, Output = factory.StepOutput(prevId) }, ct);
        }
        if (next < workflow.Steps.Length)
        {
            var (stepId, _, _, _) = workflow.Steps[next];
            await service.UpsertStepAsync(Engine, id, stepId, new StepUpsert { Status = StepStatus.Running, StartedAt = now, Attempt = 1, Input = DemoCatalog.Json(new { step = stepId, tenant = run.TenantId }) }, ct);
            _active[id] = (workflow, next + 1, outcome, failAt);
            return;
        }
        // Every step done: report the results and finish.
        var done = factory.Finished(id, run.TenantId, workflow, DbTime.Parse(run.CreatedAt), outcome).Run;
        await service.UpdateAsync(Engine, id, new RunPatch
        {
            Status = outcome,
            Metrics = new RunMetrics(done.TargetsMatched, done.TargetsProcessed, done.TargetsSkipped, done.InsightsCreated),
            Usage = done.ModelName is null ? null : new RunUsage(done.ModelProfile, done.ModelProvider, done.ModelName, done.TokensInput, done.TokensOutput, null),
            Errors = outcome == RunStatus.Partial ? [new ErrorEntry("user:4411", "Insight rejected by safety filter", "reflect")] : null,
        }, ct);
        _active.Remove(id);
    }
}
