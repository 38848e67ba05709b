using System.Globalization;

namespace RunMonitor.Web.Runs;

/// The one text form of an instant in the database: UTC, millisecond precision, sortable as text.
public static class DbTime
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string ToDb(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static string? ToDb(DateTimeOffset? value) => value is { } v ? ToDb(v) : null;

    public static DateTimeOffset Parse(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static DateTimeOffset? FromDb(string? value) => value is null ? null : Parse(value);

    /// Milliseconds from start to end (never negative); null unless both are known.
    public static long? Between(string? start, string? end) =>
        start is null || end is null ? null : Math.Max(0, (long)(Parse(end) - Parse(start)).TotalMilliseconds);

    /// ISO-8601 date or date-time; without an offset it is UTC. False for anything else.
    public static bool TryParseIso(string text, out DateTimeOffset value, out bool dateOnly)
    {
        dateOnly = false;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            dateOnly = true;
            value = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return true;
        }
        string[] formats =
        [
            "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
            "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
            // With a space for the T, as Python's str(datetime) and SQL write them (seconds' fractions and offsets too).
            "yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
            "yyyy-MM-dd HH:mmK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        ];
        return DateTimeOffset.TryParseExact(SevenFractionDigits(UpperTAndZ(text)), formats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }

    /// RFC 3339 (5.6) lets the `T` between date and time and the `Z` of UTC be lower case, as some writers send them
    /// (`2026-11-21t08:00:00z`); .NET's formats read upper case only.
    private static string UpperTAndZ(string text)
    {
        var t = text.Length > 10 && text[10] == 't';
        var z = text.Length > 10 && text[^1] == 'z';
        if (!t && !z) return text;
        return string.Create(text.Length, (text, t, z), static (span, state) =>
        {
            state.text.CopyTo(span);
            if (state.t) span[10] = 'T';
            if (state.z) span[^1] = 'Z';
        });
    }

    /// Go's RFC3339Nano and others write nine digits of a second; .NET reads seven at most. The digits past seven
    /// (below 100 ns) are dropped: the store keeps milliseconds.
    private static string SevenFractionDigits(string text)
    {
        var dot = text.IndexOf('.');
        if (dot < 0) return text;
        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end])) end++;
        return end - dot - 1 > 7 ? string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end)) : text;
    }
}
