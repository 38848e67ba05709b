using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Demo;

/// What a demo step prints fits its skill: the model calls talk of the model and its tokens, the other steps of what
/// they do (rows, messages, assets), never of a model they do not call.
public sealed class DemoLogsTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Skills() => [.. DemoCatalog.Workflows.SelectMany(w => w.Steps.Select(s => s.SkillId)).Distinct()];

    [Theory]
    [MemberData(nameof(Skills))]
    public void StartedAndFinished_SpeakOfWhatTheSkillDoes(string skillId)
    {
        var random = new Random(3);
        var step = new StepRow { StepId = "s", SkillId = skillId, Attempt = 1 };
        var callsAModel = skillId.StartsWith("llm.", StringComparison.Ordinal) || skillId == "config.generate";

        var lines = Enumerable.Range(0, 200)
            .SelectMany(_ => DemoLogs.Started(step, random, At).Concat(DemoLogs.Finished(step, random, At, At.AddSeconds(5))))
            .Select(l => l.Message).Distinct().ToList();

        Assert.Contains($"starting s ({skillId})", lines);
        if (callsAModel) Assert.Contains(lines, l => l.Contains("the model", StringComparison.Ordinal));
        else Assert.DoesNotContain(lines, l => l.Contains("model", StringComparison.Ordinal));
        if (skillId.StartsWith("llm.", StringComparison.Ordinal))
            Assert.DoesNotContain(lines, l => l.Contains("rows", StringComparison.Ordinal) || l.Contains("cache miss", StringComparison.Ordinal));
    }

    /// A step starting says what it sets out to do; what it got (the model's answer, rows written) comes as it ends.
    [Theory]
    [MemberData(nameof(Skills))]
    public void Started_NeverReportsWhatOnlyTheEndKnows(string skillId)
    {
        var random = new Random(4);
        var step = new StepRow { StepId = "s", SkillId = skillId, Attempt = 1 };

        var started = Enumerable.Range(0, 100).SelectMany(_ => DemoLogs.Started(step, random, At)).Select(l => l.Message).Distinct().ToList();
        var finished = Enumerable.Range(0, 100).SelectMany(_ => DemoLogs.Finished(step, random, At, At.AddSeconds(5))).Select(l => l.Message).Distinct().ToList();

        Assert.DoesNotContain(started, l => l.Contains("answered", StringComparison.Ordinal) || l.Contains("parsed", StringComparison.Ordinal)
            || l.StartsWith("wrote", StringComparison.Ordinal) || l.StartsWith("uploaded", StringComparison.Ordinal) || l.StartsWith("posted", StringComparison.Ordinal));
        Assert.Empty(started.Where(l => l != "input resolved" && !l.StartsWith("starting ", StringComparison.Ordinal)).Intersect(finished));
    }
}
