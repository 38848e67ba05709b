using System.Globalization;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Admin;

public sealed record ChartSegment(string Status, long Count, double Y, double Height);

public sealed record ChartBar(DateOnly Day, long Total, double X, IReadOnlyList<ChartSegment> Segments)
{
    public string Label => Day.ToString("MMM d", CultureInfo.InvariantCulture);
    public string Month => Day.ToString("MMM", CultureInfo.InvariantCulture);
    public string DayOfMonth => Day.Day.ToString(CultureInfo.InvariantCulture);
}

/// Runs per day stacked by status, laid out for a server-rendered SVG (no script, no inline style). The SVG
/// draws bars only and stretches to its box; the axis words are HTML, so they keep their size at any width.
public sealed record RunsChartModel(IReadOnlyList<ChartBar> Bars, long Max, long Step, double BarWidth)
{
    public const double Width = 700, Height = 200;

    /// The y axis's labels from 0 to the top, every `Step` runs.
    public IEnumerable<long> Ticks => Enumerable.Range(0, (int)(Max / Step) + 1).Select(i => i * Step);

    public static RunsChartModel From(IReadOnlyList<DayStatusCount> counts, DateOnly today, int days)
    {
        var byDay = counts.ToLookup(c => c.Day);
        var slot = Width / days;
        var perDay = Enumerable.Range(0, days).Select(i => today.AddDays(i - days + 1))
            .Select(d => (Day: d, Counts: byDay[d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)].ToList()))
            .ToList();
        var (scale, step) = NiceScale(perDay.Max(d => d.Counts.Sum(c => c.Count)));
        var bars = perDay.Select((d, i) =>
        {
            var y = Height;
            var segments = new List<ChartSegment>();
            // Stack in the status order the app uses everywhere, first status at the bottom.
            foreach (var status in RunStatus.All)
            {
                var count = d.Counts.Where(c => c.Status == status).Sum(c => c.Count);
                if (count == 0) continue;
                var h = Height * count / scale;
                y -= h;
                segments.Add(new ChartSegment(status, count, y, h));
            }
            return new ChartBar(d.Day, d.Counts.Sum(c => c.Count), i * slot + slot * 0.15, segments);
        }).ToList();
        return new RunsChartModel(bars, scale, step, slot * 0.7);
    }

    /// A y axis for the tallest bar: the lowest top reached in at most six round steps (1, 2, 2.5 or 5 times
    /// a power of ten, whole numbers), so 106 runs get 0, 20 … 120 and 625 get 0, 250 … 750.
    public static (long Top, long Step) NiceScale(long tallest)
    {
        var value = Math.Max(1, tallest);
        (long Top, long Step) best = (long.MaxValue, 1);
        for (long power = 1; power <= value; power *= 10)
        {
            foreach (var step in new[] { power, 2 * power, 5 * power / 2, 5 * power })
            {
                var intervals = (value + step - 1) / step;
                if (intervals <= 6 && intervals * step < best.Top) best = (intervals * step, step);
            }
        }
        return best;
    }

    public static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// Label every day of a week, every fifth day of a month.
    public bool ShowLabel(int index) => Bars.Count <= 7 || index % 5 == (Bars.Count - 1) % 5;
}
