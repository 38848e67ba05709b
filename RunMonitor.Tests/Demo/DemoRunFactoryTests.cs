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

    [Theory]
    [InlineData("TimeoutError", "TIMEOUT_ERROR")]
    [InlineData("RateLimitError", "RATE_LIMIT_ERROR")]
    [InlineData("IOError", "IO_ERROR")]
    public void ErrorCode_FromExceptionType_UpperSnakeCase(string type, string code) => Assert.Equal(code, DemoCatalog.ErrorCode(type));
}
