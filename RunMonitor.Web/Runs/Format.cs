using System.Globalization;
using Humanizer;

namespace RunMonitor.Web.Runs;

/// SPEC's display formats, one place: counts, costs, durations and times; `—` for nothing.
public static class Format
{
    public const string Nothing = "—";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Count(long? value) => value is { } v ? v.ToString("N0", Invariant) : Nothing;

    public static string Cost(double? usd) => usd is { } v ? "$" + v.ToString("0.0000", Invariant) : Nothing;

    public static string CostCard(double usd) => "$" + usd.ToString("N2", Invariant);

    public static string Duration(long? milliseconds)
    {
        if (milliseconds is not { } ms) return Nothing;
        var seconds = ms / 1000d;
        if (seconds < 60) return (Math.Floor(seconds * 10) / 10).ToString("0.0", Invariant) + "s";
        var total = (long)Math.Floor(seconds);
        if (total < 3600) return $"{total / 60}m {total % 60}s";
        return $"{total / 3600}h {total % 3600 / 60}m";
    }

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0.0", Invariant) + "%" : Nothing;

    public static string Relative(DateTimeOffset value, DateTimeOffset now) =>
        value.UtcDateTime.Humanize(utcDate: true, dateToCompareAgainst: now.UtcDateTime, culture: Invariant);

    public static string Absolute(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Invariant);

    public static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", Invariant);
}
