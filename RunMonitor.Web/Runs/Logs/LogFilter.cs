using System.Globalization;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Runs;

/// A log read's parameters (SPEC "Logs"), parsed from name/value pairs in one place for the JSON read, the text
/// download and the fragment. `before` (the fragment's "load earlier") and no `after` read back from the end.
public sealed record LogFilter
{
    public const int DefaultLimit = 200;
    public const int MaxLimit = 1000;
    public const int MaxQLength = 200;

    public string? Step { get; init; }
    public int MinLevel { get; init; } = LogLevels.Trace;
    public string? Q { get; init; }
    public long? After { get; init; }
    public long? Before { get; init; }
    public int Limit { get; init; } = DefaultLimit;

    /// Narrowed by level or text: what a log panel's form sets.
    public bool NarrowsLines => MinLevel > LogLevels.Trace || Q is not null;

    public static readonly IReadOnlySet<string> Parameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "step", "level", "q", "after", "before", "limit", RunTenant.Parameter,
    };

    public static (LogFilter? Filter, BadParameter? Error) Parse(IReadOnlyDictionary<string, string?[]> query)
    {
        foreach (var (key, values) in query)
        {
            if (!Parameters.Contains(key)) return Bad(key, $"is not a log parameter; accepted: {string.Join(", ", Parameters.Order())}");
            if (values.Length > 1) return Bad(key, "was given more than once; give it once");
        }
        string? One(string name) => query.TryGetValue(name, out var v) && v.Length > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : null;

        var filter = new LogFilter();
        if (One("step") is { } step)
        {
            if (!Api.IngestParser.IdPattern().IsMatch(step)) return Bad("step", $"accepts a step id: {Api.IngestParser.IdText}");
            filter = filter with { Step = step };
        }
        if (One("level") is { } levelText)
        {
            if (LogLevels.Parse(levelText) is not { } level) return Bad("level", $"accepts the lowest level shown: {LogLevels.Accepted}");
            filter = filter with { MinLevel = level };
        }
        if (One("q") is { } q)
        {
            if (q.Length > MaxQLength) return Bad("q", $"accepts text of at most {MaxQLength} characters to find in messages");
            filter = filter with { Q = q };
        }
        if (One("after") is { } afterText)
        {
            if (!long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
                return Bad("after", "accepts a line number (seq) of 0 or more: the lines after it are read");
            filter = filter with { After = after };
        }
        if (One("before") is { } beforeText)
        {
            if (!long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out var before) || before < 1)
                return Bad("before", "accepts a line number (seq) of 1 or more: the lines before it are read");
            if (filter.After is not null) return Bad("before", "cannot be given with after; give one of them");
            filter = filter with { Before = before };
        }
        if (One("limit") is { } limitText)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
                return Bad("limit", $"accepts a whole number from 1 to {MaxLimit} (default {DefaultLimit})");
            filter = filter with { Limit = limit };
        }
        return (filter, null);
    }

    private static (LogFilter?, BadParameter?) Bad(string name, string message) => (null, new BadParameter(name, message));

    /// The query string of this filter with the given cursor (for links: load earlier, later, the download).
    public string Query(long? after = null, long? before = null, bool withCursor = true)
    {
        var parts = new List<KeyValuePair<string, string?>>();
        if (Step is not null) parts.Add(new("step", Step));
        if (MinLevel > LogLevels.Trace) parts.Add(new("level", LogLevels.Word(MinLevel)));
        if (Q is not null) parts.Add(new("q", Q));
        if (withCursor && after is not null) parts.Add(new("after", after.Value.ToString(CultureInfo.InvariantCulture)));
        if (withCursor && before is not null) parts.Add(new("before", before.Value.ToString(CultureInfo.InvariantCulture)));
        return Microsoft.AspNetCore.Http.QueryString.Create(parts).ToString();
    }
}
