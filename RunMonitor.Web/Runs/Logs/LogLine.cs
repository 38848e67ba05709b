using System.Text;

namespace RunMonitor.Web.Runs;

/// The five levels a line may have, stored as their number (0 trace … 4 error) and named by their word.
public static class LogLevels
{
    public const int Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4;

    public static readonly IReadOnlyList<string> Words = ["trace", "debug", "info", "warn", "error"];

    public const string Accepted = "trace, debug, info (the default), warn (or warning), error (or fatal, critical)";

    /// The level a word names (any case; `warning`, `fatal` and `critical` are other names), or null.
    public static int? Parse(string? word) => word?.Trim().ToLowerInvariant() switch
    {
        "trace" => Trace,
        "debug" => Debug,
        "info" => Info,
        "warn" or "warning" => Warn,
        "error" or "fatal" or "critical" => Error,
        _ => null,
    };

    public static string Word(long level) => level is >= Trace and <= Error ? Words[(int)level] : "info";
}

/// `RunMonitor:Logs`: how many lines a run keeps; later ones are counted as dropped.
public sealed class LogOptions
{
    public const int DefaultMaxLinesPerRun = 100_000;
    public int MaxLinesPerRun { get; init; } = DefaultMaxLinesPerRun;
}

/// One line as an engine sent it, checked: `Ts` null means "when received".
public sealed record LogLineIn(DateTimeOffset? Ts, int Level, string? StepId, string Message, string? Fields);

/// One stored line. `Ts` in Unix milliseconds; `Cut` the message's UTF-8 length before it was cut, null when whole.
public sealed record LogRow
{
    public long RunPk { get; init; }
    public long Seq { get; init; }
    public long Ts { get; init; }
    public long Level { get; init; }
    public string? StepId { get; init; }
    public string Message { get; init; } = "";
    public string? Fields { get; init; }
    public long? Cut { get; init; }

    public string LevelWord => LogLevels.Word(Level);
    public DateTimeOffset Time => DateTimeOffset.FromUnixTimeMilliseconds(Ts);

    /// The most of a message kept: 16 KB of UTF-8.
    public const int MaxMessageBytes = 16 * 1024;

    /// The message as kept: whole, or its first 16 KB (never splitting a character) and the length it had.
    public static (string Message, long? Cut) Keep(string message)
    {
        if (message.Length <= MaxMessageBytes / 3) return (message, null);
        var bytes = Encoding.UTF8.GetByteCount(message);
        if (bytes <= MaxMessageBytes) return (message, null);
        var length = 0;
        var used = 0;
        while (length < message.Length)
        {
            var width = char.IsHighSurrogate(message[length]) && length + 1 < message.Length ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(message.AsSpan(length, width));
            if (used + size > MaxMessageBytes) break;
            used += size;
            length += width;
        }
        return (message[..length], bytes);
    }
}

/// A run's log totals: lines kept, later lines dropped past the cap, the first error's seq.
public sealed record LogCounts
{
    public long Lines { get; init; }
    public long Dropped { get; init; }
    public long? FirstError { get; init; }

    public static readonly LogCounts None = new();
}

/// What one append did: lines stored, lines dropped (the run was full), the last seq given.
public sealed record LogAppend(string RunId, string TenantId, int Accepted, int Dropped, long LastSeq);

/// A page of lines in order; `Next` is the cursor (`after=`) for the lines after it, null at the end; `Earlier` the
/// cursor (`before=`) for the lines before it when the page was read from the end and more come before. `Match`: the
/// lines the page's filter matches in the whole run, when known (every line's, or a tail read's).
public sealed record LogPage(IReadOnlyList<LogRow> Items, long? Next, long? Earlier, LogCounts Counts)
{
    public LogMatch? Match { get; init; }
}

/// How many of a run's lines a filter matches, and the first error among them.
public sealed record LogMatch
{
    public long Lines { get; init; }
    public long? FirstError { get; init; }
}
