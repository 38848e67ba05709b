using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using Humanizer;
using Microsoft.AspNetCore.Html;

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

    /// How long something has waited since `since` ("3m 5s"): the queue's oldest run on the stats card and /admin. Never
    /// below zero (a run created a moment ahead of this clock has not waited at all).
    public static string Waited(DateTimeOffset since, DateTimeOffset now) => Duration((long)Math.Max(0, (now - since).TotalMilliseconds));

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0.0", Invariant) + "%" : Nothing;

    // Humanizer's words for each (unit, tense, count), looked up once: its formatter builds a resource key and
    // reads a ResourceManager under a lock on every call, which was a tenth of a run view's time.
    private static readonly ConcurrentDictionary<(TimeUnit, Tense, int), string> RelativeWords = new();

    /// Humanizer's `DateTime.Humanize` (its default strategy, in words it looks up once per unit and count):
    /// `FormatTests` holds the two equal over every unit boundary.
    public static string Relative(DateTimeOffset value, DateTimeOffset now)
    {
        var (input, basis) = (value.UtcDateTime, now.UtcDateTime);
        var tense = input > basis ? Tense.Future : Tense.Past;
        var ts = new TimeSpan(Math.Abs(basis.Ticks - input.Ticks));
        var (unit, count) = RelativeUnit(input, basis, ts, tense);
        return RelativeWords.GetOrAdd((unit, tense, count), static key =>
            Configurator.Formatters.ResolveForCulture(Invariant).DateHumanize(key.Item1, key.Item2, key.Item3));
    }

    // Humanizer's DateTimeHumanizeAlgorithms.DefaultHumanize, step for step.
    private static (TimeUnit Unit, int Count) RelativeUnit(DateTime input, DateTime basis, TimeSpan ts, Tense tense)
    {
        if (ts.TotalMilliseconds < 500) return (TimeUnit.Millisecond, 0);
        if (ts.TotalSeconds < 60) return (TimeUnit.Second, ts.Seconds);
        if (ts.TotalSeconds < 120) return (TimeUnit.Minute, 1);
        if (ts.TotalMinutes < 60) return (TimeUnit.Minute, ts.Minutes);
        if (ts.TotalMinutes < 90) return (TimeUnit.Hour, 1);
        if (ts.TotalHours < 24) return (TimeUnit.Hour, ts.Hours);
        if (ts.TotalHours < 48) return (TimeUnit.Day, Math.Abs((input.Date - basis.Date).Days));
        if (ts.TotalDays < 28) return (TimeUnit.Day, ts.Days);
        if (ts.TotalDays < 30)
            return basis.Date.AddMonths(tense == Tense.Future ? 1 : -1) == input.Date ? (TimeUnit.Month, 1) : (TimeUnit.Day, ts.Days);
        if (ts.TotalDays < 345) return (TimeUnit.Month, Convert.ToInt32(Math.Floor(ts.TotalDays / 29.5)));
        var years = Convert.ToInt32(Math.Floor(ts.TotalDays / 365));
        return (TimeUnit.Year, years == 0 ? 1 : years);
    }

    public static string Absolute(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Invariant);

    public static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", Invariant);

    /// A log line's time of day in UTC, to the millisecond (lines a second apart are many).
    public static string Clock(DateTimeOffset value) => value.UtcDateTime.ToString("HH:mm:ss.fff", Invariant);

    /// A name written as one word (`campaign_generation`, `publish.manifest`), encoded, with a place to break the line
    /// after each `_`, `.`, `/` and `:`, so a narrow column wraps it between its parts rather than in the middle of one.
    public static IHtmlContent Breakable(string? name)
    {
        if (string.IsNullOrEmpty(name)) return new HtmlString(Nothing);
        var html = new System.Text.StringBuilder(name.Length + 16);
        var start = 0;
        for (var i = 0; i < name.Length - 1; i++)
        {
            if (name[i] is not ('_' or '.' or '/' or ':')) continue;
            html.Append(HtmlEncoder.Default.Encode(name[start..(i + 1)])).Append("<wbr>");
            start = i + 1;
        }
        return new HtmlString(html.Append(HtmlEncoder.Default.Encode(name[start..])).ToString());
    }
}
