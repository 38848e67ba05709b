using System.Text.Json;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Api;

public static partial class IngestParser
{
    /// The most JSON a line's `fields` holds.
    public const int MaxLogFieldsBytes = 64 * 1024;

    /// One log line `{ts?, level?, step?, message, fields?}`; `urlStep` is the step the URL names (every line is
    /// that step's; a line may repeat it). A message of any length is taken (it is cut at 16 KB when stored).
    public static LogLineIn? ParseLogLine(JsonBody body, string? urlStep)
    {
        var failures = body.Errors.Count;
        var ts = body.Time("ts");
        var levelText = body.String("level", 40);
        var level = LogLevels.Info;
        if (levelText is not null)
        {
            if (LogLevels.Parse(levelText) is { } parsed) level = parsed;
            else body.Fail("level", $"must be one of {LogLevels.Accepted}");
        }
        var step = body.String("step", 128, IdPattern(), IdText);
        if (urlStep is not null && step is not null && step != urlStep)
            body.Fail("step", $"is '{step}' but the URL names step '{urlStep}'; leave it out or make them agree");
        var before = body.Errors.Count;
        var message = body.String("message", int.MaxValue, freeText: true);
        if (message is null && body.Errors.Count == before) body.Fail("message", "is required: the text the step printed, a string");
        var fields = body.RawJsonObject("fields", MaxLogFieldsBytes);
        body.RejectUnknown();
        if (body.Errors.Count > failures || message is null) return null;
        return new LogLineIn(ts, level, urlStep ?? step, message, fields);
    }

    /// A body's lines as log lines; null (and `errors` naming each bad field as `line N.field`) when any is bad.
    public static IReadOnlyList<LogLineIn>? ParseLogLines(IReadOnlyList<LineBody.Line> lines, string? urlStep, Dictionary<string, List<string>> errors)
    {
        var parsed = new List<LogLineIn>(lines.Count);
        foreach (var line in lines)
        {
            var body = JsonBody.Object(line.Value, errors, $"line {line.Number}.");
            if (body is null) continue;
            if (ParseLogLine(body, urlStep) is { } one) parsed.Add(one);
            // Past a few bad lines the answer would only grow; the first ones say what is wrong.
            if (errors.Count >= 20) break;
        }
        return errors.Count > 0 ? null : parsed;
    }
}
