using System.Globalization;
using Humanizer;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Runs;

public sealed class FormatTests
{
    [Theory]
    [InlineData(null, "—")]
    [InlineData(0L, "0")]
    [InlineData(12345L, "12,345")]
    [InlineData(1234567L, "1,234,567")]
    public void Count_FormatsWithCommas(long? value, string expected) => Assert.Equal(expected, Format.Count(value));

    [Theory]
    [InlineData(null, "—")]
    [InlineData(0.0123, "$0.0123")]
    [InlineData(12.3456789, "$12.3457")]
    [InlineData(0.0, "$0.0000")]
    public void Cost_FourDecimals(double? value, string expected) => Assert.Equal(expected, Format.Cost(value));

    [Theory]
    [InlineData(null, "—")]
    [InlineData("channel-digest", "channel-digest")]
    [InlineData("campaign_generation", "campaign_<wbr>generation")]
    [InlineData("publish.manifest", "publish.<wbr>manifest")]
    [InlineData("a_b.c/d:e", "a_<wbr>b.<wbr>c/<wbr>d:<wbr>e")]
    [InlineData("trailing_", "trailing_")]
    [InlineData("<b>_&", "&lt;b&gt;_<wbr>&amp;")]
    public void Breakable_EncodesAndMayBreakAfterEachSeparator(string? name, string expected)
    {
        using var html = new StringWriter();
        Format.Breakable(name).WriteTo(html, System.Text.Encodings.Web.HtmlEncoder.Default);
        Assert.Equal(expected, html.ToString());
    }

    [Theory]
    [InlineData(12.345, "$12.35")]
    [InlineData(1234.5, "$1,234.50")]
    public void CostCard_TwoDecimals(double value, string expected) => Assert.Equal(expected, Format.CostCard(value));

    [Theory]
    [InlineData(null, "—")]
    [InlineData(0L, "0.0s")]
    [InlineData(1_234L, "1.2s")]
    [InlineData(59_990L, "59.9s")]
    [InlineData(60_000L, "1m 0s")]
    [InlineData(185_000L, "3m 5s")]
    [InlineData(3_599_999L, "59m 59s")]
    [InlineData(3_600_000L, "1h 0m")]
    [InlineData(3_720_000L, "1h 2m")]
    [InlineData(90_000_000L, "25h 0m")]
    public void Duration_ThreeRanges(long? ms, string expected) => Assert.Equal(expected, Format.Duration(ms));

    [Fact]
    public void Relative_UsesHumanizer()
    {
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal("3 minutes ago", Format.Relative(now.AddMinutes(-3), now));
        Assert.Equal("yesterday", Format.Relative(now.AddDays(-1), now));
        Assert.Equal("2026-11-21 11:57:00 UTC", Format.Absolute(now.AddMinutes(-3)));
    }

    public static TheoryData<string> RelativeBases() =>
    [
        "2026-11-21T12:00:00Z", "2026-11-21T00:00:00.250Z", "2026-11-21T23:59:59.750Z", "2026-03-01T00:30:00Z",
        "2026-03-31T12:00:00Z", "2028-02-29T06:00:00Z", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z",
    ];

    /// Times either side of `now`, dense where the words change (seconds, minutes, hours, the day and month edges),
    /// sparse beyond; the browser's ticking times are held to the same words over them (`TimesBrowserTests`).
    internal static IEnumerable<DateTimeOffset> RelativeValuesAround(DateTimeOffset now)
    {
        var offsets = new List<TimeSpan>();
        for (var ms = 0; ms <= 3_000; ms += 50) offsets.Add(TimeSpan.FromMilliseconds(ms));
        for (var s = 0; s <= 3 * 3600; s += 7) offsets.Add(TimeSpan.FromSeconds(s) + TimeSpan.FromMilliseconds(s % 1000));
        for (var m = 0; m <= 4 * 24 * 60; m += 3) offsets.Add(TimeSpan.FromMinutes(m));
        for (var h = 0; h <= 800 * 24; h += 5) offsets.Add(TimeSpan.FromHours(h) + TimeSpan.FromSeconds(h % 60));
        for (var d = 0; d <= 4000; d += 11) offsets.Add(TimeSpan.FromDays(d));
        return offsets.SelectMany(offset => new[] { now - offset, now + offset });
    }

    [Theory]
    [MemberData(nameof(RelativeBases))]
    public void Relative_EveryUnitBoundary_EqualsHumanizer(string basis)
    {
        var now = DateTimeOffset.Parse(basis, CultureInfo.InvariantCulture);

        foreach (var value in RelativeValuesAround(now))
        {
            var expected = value.UtcDateTime.Humanize(utcDate: true, dateToCompareAgainst: now.UtcDateTime, culture: CultureInfo.InvariantCulture);
            Assert.True(expected == Format.Relative(value, now), $"{value:O} against {now:O}: Humanizer says \"{expected}\", Format.Relative \"{Format.Relative(value, now)}\"");
        }
    }
}
