using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Demo;

/// What the demo's steps print: info chatter as they run, now and then a warning, and the error lines before a failure,
/// so a failed run's page tells how it got there.
public static class DemoLogs
{
    // What a step says as it works, by its skill: as it starts (a model call sends its context) and as it ends (the
    // model answered); a store speaks of rows, a channel of messages.
    private static (string[] Start, string[] End) ChatterOf(string? skillId) => skillId switch
    {
        "llm.reflect" or "llm.summarize" or "llm.digest" =>
            (["calling the model with {0} tokens of context"], ["the model answered with {0} tokens", "parsed {0} insights from the answer"]),
        "targets.select" or "history.gather" => (["loaded {0} records from the cache"], ["read {0} rows from the store"]),
        "insights.store" => (["skipped {0} insights already stored today"], ["wrote {0} rows"]),
        "channel.fetch" => (["reading the channel's last {0} messages"], ["fetched {0} messages", "dropped {0} bot messages"]),
        "channel.post" => (["formatting {0} sections"], ["posted the digest ({0} characters)"]),
        "config.generate" => (["calling the model with {0} tokens of context"], ["validated the output against its schema"]),
        "audio.compose" => (["rendering {0} variants"], ["normalised loudness over {0} frames"]),
        "build.bundle" => (["fetched {0} assets"], ["bundled {0} modules"]),
        "publish.manifest" => (["validated the manifest ({0} entries)"], ["uploaded {0} files to the CDN"]),
        _ => (["loaded {0} records from the cache"], ["wrote {0} rows", "validated the output against its schema"]),
    };

    private static string[] WarningsOf(string? skillId) => skillId switch
    {
        "llm.reflect" or "llm.summarize" or "llm.digest" or "config.generate" =>
            ["the model answered slowly ({0} ms); continuing", "rate limited by the provider; retrying in {0} ms"],
        "channel.fetch" or "channel.post" => ["rate limited by Slack; retrying in {0} ms"],
        _ => ["cache miss for {0} keys; reading through", "slow call ({0} ms); continuing"],
    };

    private static string Pick(string[] lines, Random random) => Fill(lines[random.Next(lines.Length)], random);

    private static string Fill(string text, Random random) => string.Format(System.Globalization.CultureInfo.InvariantCulture, text, random.Next(2, 900));

    /// The first `Started` line is at the step's start, the others within `StartedSpan` of it; `Finished` and `Failed`
    /// put none of theirs before that span (a short step's lines otherwise ran backwards in time).
    private static readonly TimeSpan StartedSpan = TimeSpan.FromMilliseconds(400);

    private static DateTimeOffset NotBefore(DateTimeOffset at, DateTimeOffset started) => at < started + StartedSpan ? started + StartedSpan : at;

    public static IReadOnlyList<LogLineIn> Started(StepRow step, Random random, DateTimeOffset at) =>
    [
        new(at, LogLevels.Info, step.StepId, $"starting {step.StepId}" + (step.SkillId is null ? "" : $" ({step.SkillId})"), null),
        new(at.AddMilliseconds(random.Next(5, 40)), LogLevels.Debug, step.StepId, "input resolved", $$"""{"attempt":{{step.Attempt}}}"""),
        new(at.AddMilliseconds(random.Next(40, 400)), LogLevels.Info, step.StepId, Pick(ChatterOf(step.SkillId).Start, random), null),
    ];

    public static IReadOnlyList<LogLineIn> Finished(StepRow step, Random random, DateTimeOffset started, DateTimeOffset at)
    {
        at = NotBefore(at, started);
        var lines = new List<LogLineIn>();
        if (random.NextDouble() < 0.2)
            lines.Add(new(NotBefore(at.AddMilliseconds(-random.Next(200, 900)), started), LogLevels.Warn, step.StepId, Pick(WarningsOf(step.SkillId), random), null));
        lines.Add(new(NotBefore(at.AddMilliseconds(-random.Next(10, 150)), started), LogLevels.Info, step.StepId, Pick(ChatterOf(step.SkillId).End, random), null));
        lines.Add(new(at, LogLevels.Info, step.StepId, $"{step.StepId} done", null));
        return lines;
    }

    public static IReadOnlyList<LogLineIn> Failed(StepRow step, string message, DateTimeOffset started, DateTimeOffset at)
    {
        at = NotBefore(at, started);
        return
        [
            new(NotBefore(at.AddSeconds(-2), started), LogLevels.Warn, step.StepId, $"attempt 1 of {step.StepId} failed; retrying once", null),
            new(NotBefore(at.AddMilliseconds(-300), started), LogLevels.Error, step.StepId, message, """{"retryable":false}"""),
            new(at, LogLevels.Error, step.StepId, $"{step.StepId} failed; stopping the run", null),
        ];
    }

    /// The lines of a finished run of the seeded history, step by step at the steps' own times.
    public static IReadOnlyList<LogLineIn> ForFinished(DemoRun run, Random random)
    {
        var lines = new List<LogLineIn>();
        foreach (var step in run.Steps.Where(s => s.StartedAt is not null))
        {
            var started = DbTime.Parse(step.StartedAt!);
            var ended = step.CompletedAt is null ? started.AddSeconds(1) : DbTime.Parse(step.CompletedAt);
            var stepLines = new List<LogLineIn>(Started(step, random, started));
            if (step.Status == StepStatus.Failed) stepLines.AddRange(Failed(step, step.ErrorMessage ?? "step failed", started, ended));
            else if (step.Status == StepStatus.Completed) stepLines.AddRange(Finished(step, random, started, ended));
            // A step shorter than its lines' spacing (a cache hit takes 20 ms) keeps them inside its own time, in order.
            lines.AddRange(stepLines.Select(l => l with { Ts = l.Ts < started ? started : l.Ts > ended ? ended : l.Ts }).OrderBy(l => l.Ts));
        }
        return lines;
    }
}
