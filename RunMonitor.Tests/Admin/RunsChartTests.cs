using RunMonitor.Web.Admin;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Admin;

/// The runs-per-day chart's y axis: round steps up to just above the tallest day.
public class RunsChartTests
{
    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(7, 8, 2)]
    [InlineData(23, 25, 5)]
    [InlineData(106, 120, 20)]
    [InlineData(200, 200, 50)]
    [InlineData(625, 750, 250)]
    [InlineData(12_345, 12_500, 2_500)]
    public void NiceScale_TallestDay_TopIsTheNextRoundStep(long tallest, long top, long step)
    {
        Assert.Equal((top, step), RunsChartModel.NiceScale(tallest));
    }

    [Fact]
    public void From_Week_TicksEvenlyFromZeroToTopAndTallestBarBelowIt()
    {
        var today = new DateOnly(2026, 11, 21);
        var counts = new List<DayStatusCount>
        {
            new() { Day = "2026-11-21", Status = "completed", Count = 100 },
            new() { Day = "2026-11-21", Status = "failed", Count = 6 },
            new() { Day = "2026-11-18", Status = "completed", Count = 40 },
        };

        var chart = RunsChartModel.From(counts, today, 7);

        Assert.Equal([0L, 20, 40, 60, 80, 100, 120], chart.Ticks);
        var tallest = chart.Bars[^1];
        Assert.Equal(106, tallest.Total);
        Assert.Equal(RunsChartModel.Height * (1 - 106 / 120d), tallest.Segments.Min(s => s.Y), 6);
    }
}
