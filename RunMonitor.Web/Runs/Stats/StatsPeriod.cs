using System.Globalization;

namespace RunMonitor.Web.Runs;

/// The stats' one window, for the runs page's cards, `/api/admin/runs/stats` and `/admin` alike: whole UTC hours or
/// days of creation, the current one included as far as it has gone. 24h is this hour and the 23 before it; 7d and
/// 30d are today and the 6 or 29 days before (calendar days). Whole units are what the hourly rollups hold, so every
/// figure is a sum of rollup rows, exact, and no part of the period is read from the runs themselves.
public sealed record StatsPeriod(string Token, int Count, TimeSpan Unit)
{
    public static readonly IReadOnlyList<StatsPeriod> All =
    [
        new("24h", 24, TimeSpan.FromHours(1)),
        new("7d", 7, TimeSpan.FromDays(1)),
        new("30d", 30, TimeSpan.FromDays(1)),
    ];

    public static StatsPeriod Default => All[1];

    public static StatsPeriod? Parse(string? token) =>
        string.IsNullOrEmpty(token) ? Default : All.FirstOrDefault(p => p.Token == token);

    /// How the cards' labels name it ("Total Runs (24h)").
    public string Label => Token;

    /// The switch's words for it.
    public string Words => Count + (Unit == TimeSpan.FromHours(1) ? " hours" : " days");

    /// The start of the first hour or day counted.
    public DateTimeOffset Since(DateTimeOffset now)
    {
        var current = now.UtcTicks - now.UtcTicks % Unit.Ticks;
        return new DateTimeOffset(current, TimeSpan.Zero) - (Count - 1) * Unit;
    }

    /// The window in words, the same on the cards and `/admin`: "7 calendar days (UTC): Nov 15 – today",
    /// "24 clock hours (UTC): 13:00 yesterday – now".
    public string Describe(DateTimeOffset now)
    {
        var since = Since(now);
        if (Unit == TimeSpan.FromDays(1))
            return $"{Count} calendar days (UTC): {since.ToString("MMM d", CultureInfo.InvariantCulture)} – today";
        var yesterday = since.UtcDateTime.Date < now.UtcDateTime.Date ? " yesterday" : "";
        return $"{Count} clock hours (UTC): {since.ToString("HH:mm", CultureInfo.InvariantCulture)}{yesterday} – now";
    }
}
