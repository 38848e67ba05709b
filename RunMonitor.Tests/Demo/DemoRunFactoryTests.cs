using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Demo;

/// The demo's campaign engine reports as omeercs does (version, trigger type, input hashes, coded errors naming
/// the failed step), so `--demo` shows those facts; the reflection engines, like Zos, have none of them.
public sealed class DemoRunFactoryTests
{
    private static readonly DemoRunFactory Factory = new(new Random(11), new PriceTable(Microsoft.Extensions.Options.Options.Create(new PriceOptions())));
    private static readonly DateTimeOffset At = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Finished_FailedCampaignRun_CarriesOmeercsFields()
    {
        var campaign = DemoCatalog.Workflows.Single(w => w.Name == DemoCatalog.OmeercsWorkflow);

        var demo = Factory.Finished("demo-om", "acme", campaign, At, RunStatus.Failed);

        var failedStep = demo.Steps.Single(s => s.Status == StepStatus.Failed);
        Assert.Equal(DemoCatalog.OmeercsVersion, demo.Run.WorkflowVersion);
        Assert.Equal("initial", demo.Run.TriggerType);
        Assert.Equal("STEP_FAILED", demo.Run.ErrorCode);
        Assert.Equal(failedStep.StepId, demo.Run.ErrorFailedStepId);
        Assert.Matches("^[A-Z]+(_[A-Z]+)*$", failedStep.ErrorCode!);
        Assert.All(demo.Steps.Where(s => s.Input is not null), s => Assert.Equal(DemoCatalog.InputHash(s.Input!), s.InputHash));
    }

    [Fact]
    public void Finished_ReflectionRun_HasNoOmeercsFields()
    {
        var reflection = DemoCatalog.Workflows.First(w => w.Reflection);

        var demo = Factory.Finished("demo-zos", "acme", reflection, At, RunStatus.Failed);

        Assert.Null(demo.Run.WorkflowVersion);
        Assert.Null(demo.Run.ErrorCode);
        Assert.All(demo.Steps, s => Assert.Null(s.InputHash));
    }

    [Fact]
    public void Finished_DigestRuns_PayloadNamesTheChannelTheirNameDoes()
    {
        var digest = DemoCatalog.Workflows.Single(w => w.Name == "channel-digest");

        var runs = Enumerable.Range(0, 40).Select(i => Factory.Finished($"demo-digest-{i}", i % 2 == 0 ? "acme" : "globex", digest, At, RunStatus.Completed).Run).ToList();

        Assert.All(runs, run => Assert.Equal(run.Name!["Digest ".Length..],
            System.Text.Json.JsonDocument.Parse(run.TriggerPayload!).RootElement.GetProperty("channel").GetString()));
        Assert.True(runs.Select(r => r.Name).Distinct().Count() > 1);
    }

    [Fact]
    public void Catalog_EverySkill_FailsInItsOwnWays()
    {
        var skills = DemoCatalog.Workflows.SelectMany(w => w.Steps.Select(s => s.SkillId)).Distinct().ToList();

        Assert.Equal(skills.Order(), DemoCatalog.FailuresBySkill.Keys.Order());
        Assert.All(DemoCatalog.FailuresBySkill.Values, ways => Assert.True(ways.Length >= 2));
    }

    /// A reflection run (a Zos engine, Python) fails with a traceback, a campaign run (omeercs, TypeScript) with a Node
    /// stack, each ending or beginning with the type and message the run carries, and from a failure of that step's skill.
    [Theory]
    [InlineData("campaign_generation")]
    [InlineData("nightly-user-reflection")]
    [InlineData("weekly-self-reflection")]
    [InlineData("channel-digest")]
    public void Finished_FailedRun_FailsAsItsEngineDoes(string workflowName)
    {
        var workflow = DemoCatalog.Workflows.Single(w => w.Name == workflowName);
        var factory = new DemoRunFactory(new Random(5), new PriceTable(Microsoft.Extensions.Options.Options.Create(new PriceOptions())));

        for (var n = 0; n < 40; n++)
        {
            var demo = factory.Finished($"demo-{n}", "acme", workflow, At, RunStatus.Failed);

            var step = demo.Steps.Single(s => s.Status == StepStatus.Failed);
            var failure = Assert.Single(DemoCatalog.FailuresBySkill[step.SkillId!], f => f.Message == step.ErrorMessage && f.Stack == step.ErrorStack);
            Assert.Equal((failure.Type, failure.Message, failure.Stack), (demo.Run.ErrorType, demo.Run.ErrorMessage, demo.Run.ErrorStack));
            if (workflowName == DemoCatalog.OmeercsWorkflow)
            {
                Assert.StartsWith($"{failure.Type}: {failure.Message}\n    at ", failure.Stack);
                Assert.DoesNotContain("Traceback", failure.Stack);
            }
            else
            {
                Assert.StartsWith("Traceback (most recent call last):\n  File \"/", failure.Stack);
                Assert.EndsWith($"\n{failure.Type}: {failure.Message}", failure.Stack);
            }
        }
    }

    /// A seeded retry is the run RunMonitor's retry makes of its original, run again after it.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Retried_FailedRun_KeepsTheOriginalsRunAndPlan(bool fromFailedStep)
    {
        var factory = new DemoRunFactory(new Random(9), new PriceTable(Microsoft.Extensions.Options.Options.Create(new PriceOptions())));
        foreach (var workflow in DemoCatalog.Workflows)
        {
            var original = factory.Finished("demo-old", "globex", workflow, At, RunStatus.Failed);
            var failedAt = original.Steps.ToList().FindIndex(s => s.Status == StepStatus.Failed);

            var retry = factory.Retried(original, "demo-new", At.AddHours(1), RunStatus.Completed, fromFailedStep);

            Assert.Equal((original.Run.TenantId, original.Run.WorkflowName, original.Run.Name, original.Run.TriggerPayload, original.Run.LayerHash, "demo-old"),
                (retry.Run.TenantId, retry.Run.WorkflowName, retry.Run.Name, retry.Run.TriggerPayload, retry.Run.LayerHash, retry.Run.RetryOf));
            Assert.Equal(original.Steps.Select(s => (s.StepId, s.SkillId)), retry.Steps.Select(s => (s.StepId, s.SkillId)));
            Assert.All(retry.Steps, s => Assert.Equal(("globex", "demo-new", StepStatus.Completed), (s.TenantId, s.RunId, s.Status)));
            Assert.All(retry.Steps, s => Assert.Contains("\"tenant\":\"globex\"", s.Input!));
            var carried = fromFailedStep ? failedAt : 0;
            Assert.Equal(fromFailedStep ? $"from failed step {original.Steps[failedAt].StepId}" : "whole", retry.RetryHow);
            Assert.All(retry.Steps.Take(carried).Zip(original.Steps), pair => Assert.Equal(
                (1L, (string?)null, pair.Second.Input, pair.Second.Output), (pair.First.CacheHit, pair.First.StartedAt, pair.First.Input, pair.First.Output)));
            Assert.All(retry.Steps.Skip(carried), s => Assert.NotNull(s.StartedAt));
            // The failed step is on its next attempt, and its input says so.
            Assert.Equal(original.Steps[failedAt].Attempt + 1, retry.Steps[failedAt].Attempt);
            Assert.Contains($"\"attempt\":{retry.Steps[failedAt].Attempt}", retry.Steps[failedAt].Input!);
        }
    }

    /// A partial run's errors say which of its steps skipped what.
    [Theory]
    [InlineData("campaign_generation")]
    [InlineData("nightly-user-reflection")]
    [InlineData("weekly-self-reflection")]
    [InlineData("channel-digest")]
    public void Finished_PartialRun_ErrorsNameItsOwnSteps(string workflowName)
    {
        var workflow = DemoCatalog.Workflows.Single(w => w.Name == workflowName);
        var factory = new DemoRunFactory(new Random(3), new PriceTable(Microsoft.Extensions.Options.Options.Create(new PriceOptions())));

        var errors = Enumerable.Range(0, 40).SelectMany(n => factory.Finished($"demo-{n}", "acme", workflow, At, RunStatus.Partial).Errors).ToList();

        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Contains(e.Node, workflow.Steps.Select(s => s.StepId)));
    }

    [Theory]
    [InlineData("TimeoutError", "TIMEOUT_ERROR")]
    [InlineData("RateLimitError", "RATE_LIMIT_ERROR")]
    [InlineData("IOError", "IO_ERROR")]
    public void ErrorCode_FromExceptionType_UpperSnakeCase(string type, string code) => Assert.Equal(code, DemoCatalog.ErrorCode(type));
}
