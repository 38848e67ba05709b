using System.Net;
using AngleSharp.Dom;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Admin;

public class AdminPageTests(AdminFixture fixture) : IClassFixture<AdminFixture>
{
    private static string Cells(IElement row) => string.Join(' ', row.QuerySelectorAll("td").Select(td => td.Text()));

    [Fact]
    public async Task Admin_Default_ShowsSevenDayChartStackedByStatus()
    {
        var doc = await fixture.CreateClient().GetDocumentAsync("/admin");

        var bars = doc.QuerySelectorAll("#runs-chart svg g.bar");
        Assert.Equal(7, bars.Length);
        Assert.Equal("2026-11-21", bars[^1].GetAttribute("data-day"));
        Assert.Equal("23", bars[^1].GetAttribute("data-total"));
        Assert.Equal("3", bars[^4].GetAttribute("data-total"));
        var today = bars[^1].QuerySelectorAll("rect.seg").ToDictionary(r => r.GetAttribute("data-status")!, r => r.GetAttribute("data-count"));
        Assert.Equal("17", today["completed"]);
        Assert.Equal("2", today["failed"]);
        Assert.Equal("1", today["queued"]);
        Assert.Contains("23 runs", bars[^1].QuerySelector("title").Text());
    }

    [Fact]
    public async Task Admin_NoAlertRules_SectionIsAKeyboardScrollableRegion_ConfigKeyMayWrap()
    {
        var doc = await fixture.CreateClient().GetDocumentAsync("/admin");

        // The section scrolls sideways on a phone when a table is wider: the keyboard must reach it.
        var alerts = doc.QuerySelector("section#alerts")!;
        Assert.Equal("0", alerts.GetAttribute("tabindex"));
        Assert.Equal("alerts-title", alerts.GetAttribute("aria-labelledby"));
        // The config key is one long word: it sits in code.config-key, which admin.css lets break anywhere.
        Assert.Equal("RunMonitor:Alerts:N:Name|Kind|Threshold|WindowMinutes|Workflow|Tenant", alerts.QuerySelector(".empty-state code.config-key")?.TextContent);
    }

    [Fact]
    public async Task Admin_Days30_ShowsThirtyBars()
    {
        var doc = await fixture.CreateClient().GetDocumentAsync("/admin?days=30");

        Assert.Equal(30, doc.QuerySelectorAll("#runs-chart g.bar").Length);
        Assert.Equal("page", doc.QuerySelector(".admin-window a[href='/admin?days=30']")!.GetAttribute("aria-current"));
    }

    [Theory]
    [InlineData("?days=9", "days")]
    [InlineData("?days=week", "days")]
    [InlineData("?tenant=acme", "tenant")]
    public async Task Admin_BadParameter_Is400PageNamingIt(string query, string parameter)
    {
        var response = await fixture.CreateClient().GetAsync("/admin" + query);

        // The whole page, its default window, with the parameter named above it: a typed URL is not left on a bare line.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Equal(parameter, page.QuerySelector("main p.error")!.GetAttribute("data-parameter"));
        Assert.Equal("Admin", page.QuerySelector("h1").Text());
        Assert.Equal(7, page.QuerySelectorAll("#runs-chart g.bar").Length);
    }

    [Fact]
    public async Task Admin_SeveralBadParameters_Is400PageNamingEachInQueryOrder()
    {
        var response = await fixture.CreateClient().GetAsync("/admin?days=9&tenant=acme&period=7d");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Equal(["days", "tenant", "period"], page.QuerySelectorAll("main p.error").Select(e => e.GetAttribute("data-parameter")));
    }

    [Fact]
    public async Task Admin_Cards_ShowFailureRateDurationsAndQueue()
    {
        var doc = await fixture.CreateClient().GetDocumentAsync("/admin");

        Assert.Equal(Format.Percent(2 / 23d), doc.QuerySelector("[data-metric=failure-rate]").Text()); // 7 days: 23 finished, the cancelled run not
        Assert.Equal(Format.Duration(100_000), doc.QuerySelector("[data-metric=p95-duration]").Text()); // the 22nd of 23
        Assert.Equal("1", doc.QuerySelector("[data-metric=queued]").Text());
        Assert.Contains("oldest waiting 2h 0m", doc.QuerySelector("[data-metric=queued]")!.ParentElement.Text().Squash());
        Assert.Equal("1", doc.QuerySelector("[data-metric=running]").Text());
    }

    [Fact]
    public async Task Admin_Tables_ShowFailingWorkflowsSlowSkillsAndUsage()
    {
        var doc = await fixture.CreateClient().GetDocumentAsync("/admin");

        var failing = doc.QuerySelectorAll("#top-failing tbody tr");
        Assert.Single(failing);
        Assert.Equal("acme wf-fail 2 2 100.0%", Cells(failing[0]));
        var skills = doc.QuerySelectorAll("#slowest-skills tbody tr");
        Assert.Equal("slow.skill 20 10.5s 19.0s", Cells(skills[0]));
        Assert.Equal("fast.skill 1 0.1s 0.1s", Cells(skills[1]));
        var usage = doc.QuerySelectorAll("#usage tbody tr").Select(Cells).ToList();
        Assert.Equal("acme gpt-4o 1 1,000,000 100,000 $3.5000", usage[0]);
        Assert.Contains("acme claude-sonnet-4 1 1,000 1,000 $1.2500", usage);
        Assert.Contains("acme gpt-4o-mini 1 1,000,000 1,000,000 $0.7500", usage);
        // Estimated sums say so by their class (CSS writes "est." after them), not in their text.
        Assert.Equal(["$3.5000", "$0.7500"], doc.QuerySelectorAll("#usage tbody td.cost-est").Select(td => td.TextContent));
    }

    [Fact]
    public async Task Admin_PriceTable_ShowsDefaultsAndConfiguredPrices()
    {
        var doc = await fixture.CreateClient().GetDocumentAsync("/admin");

        var rows = doc.QuerySelectorAll("#price-table tbody tr").Select(Cells).ToList();
        Assert.Contains("gpt-4o 2.5 10", rows);
        Assert.Contains("house-model 7 21", rows);
        Assert.Equal(PriceTable.Defaults.Count + 1, rows.Count);
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class AdminPageTestsOnPostgres(PostgresAdminFixture fixture) : AdminPageTests(fixture), IClassFixture<PostgresAdminFixture>;
