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

    /// The filter, or every bad parameter of the query in the query's order.
    public static (LogFilter? Filter, IReadOnlyList<BadParameter>? Errors) Parse(IReadOnlyDictionary<string, string?[]> query)
    {
        var bad = new BadParameters(query.Keys);
        foreach (var (key, values) in query)
        {
            if (!Parameters.Contains(key)) bad.Add(key, $"is not a log parameter; accepted: {string.Join(", ", Parameters.Order())}");
            else if (values.Length > 1) bad.Add(key, "was given more than once; give it once");
        }
        string? One(string name) => !bad.Holds(name) && query.TryGetValue(name, out var v) && v.Length > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : null;

        var filter = new LogFilter();
        if (One("step") is { } step)
        {
            if (!Api.IngestParser.IdPattern().IsMatch(step)) bad.Add("step", $"accepts a step id: {Api.IngestParser.IdText}");
            else filter = filter with { Step = step };
        }
        if (One("level") is { } levelText)
        {
            if (LogLevels.Parse(levelText) is not { } level) bad.Add("level", $"accepts the lowest level shown: {LogLevels.Accepted}");
            else filter = filter with { MinLevel = level };
        }
        if (One("q") is { } q)
        {
            if (q.Length > MaxQLength) bad.Add("q", $"accepts text of at most {MaxQLength} characters to find in messages");
            else filter = filter with { Q = q };
        }
        if (One("after") is { } afterText)
        {
            if (!long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out var after))
                bad.Add("after", "accepts a line number (seq) of 0 or more: the lines after it are read");
            else filter = filter with { After = after };
        }
        if (One("before") is { } beforeText)
        {
            if (!long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out var before) || before < 1)
                bad.Add("before", "accepts a line number (seq) of 1 or more: the lines before it are read");
            else if (filter.After is not null) bad.Add("before", "cannot be given with after; give one of them");
            else filter = filter with { Before = before };
        }
        if (One("limit") is { } limitText)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
                bad.Add("limit", $"accepts a whole number from 1 to {MaxLimit} (default {DefaultLimit})");
            else filter = filter with { Limit = limit };
        }
        return bad.All is { } errors ? (null, errors) : (filter, null);
    }

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
