using System.Globalization;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Admin;

public sealed record ChartSegment(string Status, long Count, double Y, double Height);

public sealed record ChartBar(DateOnly Day, long Total, double X, IReadOnlyList<ChartSegment> Segments)
{
    public string Label => Day.ToString("MMM d", CultureInfo.InvariantCulture);
}

/// Runs per day stacked by status, laid out for a server-rendered SVG (no script, no inline style).
public sealed record RunsChartModel(IReadOnlyList<ChartBar> Bars, long Max, double BarWidth)
{
    public const double Width = 720, Height = 220, Left = 40, Bottom = 24, Top = 8;
    public const double PlotHeight = Height - Bottom - Top;

    public static RunsChartModel From(IReadOnlyList<DayStatusCount> counts, DateOnly today, int days)
    {
        var byDay = counts.ToLookup(c => c.Day);
        var slot = (Width - Left) / days;
        var perDay = Enumerable.Range(0, days).Select(i => today.AddDays(i - days + 1))
            .Select(d => (Day: d, Counts: byDay[d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)].ToList()))
            .ToList();
        var max = Math.Max(1, perDay.Max(d => d.Counts.Sum(c => c.Count)));
        var scale = NiceCeiling(max);
        var bars = perDay.Select((d, i) =>
        {
            var y = Top + PlotHeight;
            var segments = new List<ChartSegment>();
            // Stack in the status order the app uses everywhere, first status at the bottom.
            foreach (var status in RunStatus.All)
            {
                var count = d.Counts.Where(c => c.Status == status).Sum(c => c.Count);
                if (count == 0) continue;
                var h = PlotHeight * count / scale;
                y -= h;
                segments.Add(new ChartSegment(status, count, y, h));
            }
            return new ChartBar(d.Day, d.Counts.Sum(c => c.Count), Left + i * slot + slot * 0.15, segments);
        }).ToList();
        return new RunsChartModel(bars, scale, slot * 0.7);
    }

    /// The y axis top: 1, 2 or 5 times a power of ten, at least the tallest bar.
    public static long NiceCeiling(long value)
    {
        long power = 1;
        while (true)
        {
            foreach (var step in new[] { 1, 2, 5 })
            {
                if (step * power >= value) return step * power;
            }
            power *= 10;
        }
    }

    public static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// Label every day of a week, every fifth day of a month.
    public bool ShowLabel(int index) => Bars.Count <= 7 || index % 5 == (Bars.Count - 1) % 5;
}
