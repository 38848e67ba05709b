using System.Text;
using System.Text.Json;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

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
        AgreesWithUrl(body, "step", step, "step", urlStep);
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

    /// A batch line that is a plain, valid `log` event (`{type:"log", runId, message, level?, step?, ts?, fields?}`),
    /// read from its bytes in one pass; null for anything else (another type, an unknown or repeated field, a value
    /// of the wrong kind, text that is not storable, JSON that does not parse): those lines take the usual path
    /// (`JsonDocument`, `ParseLogLine`), which reads them again and says what is wrong as ever. What is read here
    /// is what that path would read: the same checks on the same values.
    public static object? TryReadBatchLog(int number, ReadOnlyMemory<byte> line)
    {
        try
        {
            var reader = new Utf8JsonReader(line.Span, new JsonReaderOptions { MaxDepth = JsonAnswer.BodyDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            bool type = false, seenLevel = false, seenStep = false, seenTs = false, seenFields = false;
            string? runId = null, step = null, message = null, fields = null;
            var level = LogLevels.Info;
            DateTimeOffset? ts = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    if (type || !reader.Read() || reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("log"u8)) return null;
                    type = true;
                }
                else if (reader.ValueTextEquals("runId"u8))
                {
                    if (runId is not null || !reader.Read() || StorableString(ref reader) is not { } id || !IdPattern().IsMatch(id)) return null;
                    runId = id;
                }
                else if (reader.ValueTextEquals("message"u8))
                {
                    if (message is not null || !reader.Read() || StorableString(ref reader) is not { } text) return null;
                    message = text;
                }
                else if (reader.ValueTextEquals("level"u8))
                {
                    if (seenLevel || !reader.Read()) return null;
                    seenLevel = true;
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (StorableString(ref reader) is not { Length: <= 40 } word || DisguisedText.Find(word) is not null || LogLevels.Parse(word) is not { } parsed) return null;
                    level = parsed;
                }
                else if (reader.ValueTextEquals("step"u8))
                {
                    if (seenStep || !reader.Read()) return null;
                    seenStep = true;
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (StorableString(ref reader) is not { Length: <= 128 } id || !IdPattern().IsMatch(id) || DisguisedText.Find(id) is not null) return null;
                    step = id;
                }
                else if (reader.ValueTextEquals("ts"u8))
                {
                    if (seenTs || !reader.Read()) return null;
                    seenTs = true;
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (StorableString(ref reader) is not { } text || !DbTime.TryParseIso(text, out var at, out var dateOnly) || dateOnly) return null;
                    ts = at;
                }
                else if (reader.ValueTextEquals("fields"u8))
                {
                    if (seenFields || !reader.Read()) return null;
                    seenFields = true;
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (reader.TokenType != JsonTokenType.StartObject) return null;
                    var start = (int)reader.TokenStartIndex;
                    var depth = reader.CurrentDepth;
                    // Every name and string inside must be storable text, as for the whole line.
                    while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
                    {
                        if (reader.TokenType is JsonTokenType.PropertyName or JsonTokenType.String && StorableString(ref reader) is null) return null;
                    }
                    if (reader.TokenType != JsonTokenType.EndObject) return null;
                    if ((int)reader.BytesConsumed - start > MaxLogFieldsBytes) return null;
                    fields = Encoding.UTF8.GetString(line.Span[start..(int)reader.BytesConsumed]);
                }
                else return null;
            }
            // The object's end, then nothing but the end of the line.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) return null;
            if (!type || runId is null || message is null) return null;
            return new BatchLog(number, runId, new LogLineIn(ts, level, step, message, fields));
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    // A string token's text when it is storable (valid Unicode, no NUL: `JsonBody.FindInvalidText`); null otherwise.
    private static string? StorableString(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName)) return null;
        var text = reader.GetString()!;
        return text.Contains('\0', StringComparison.Ordinal) ? null : text;
    }
}
