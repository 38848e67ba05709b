using System.Net;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Pages.Runs;

public sealed class SmokeTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    [Fact]
    public async Task List_AfterIngest_ShowsRunRow()
    {
        var client = factory.CreateClient();
        var run = await client.CreateRunAsync(new { workflowName = "channel-digest", name = "Digest #general", status = "running" });
        var doc = await client.GetDocumentAsync("/ui/runs/list?layer_name=channel-digest");
        var rows = doc.QuerySelectorAll("table.runs-table tbody tr");
        Assert.Single(rows);
        Assert.Equal("running", rows[0].QuerySelector("span.badge.badge-running").Text());
        Assert.Equal(run.GetProperty("id").GetString(), rows[0].GetAttribute("data-run-id"));
    }

    [Fact]
    public async Task Page_Renders_WithStatsAndTable()
    {
        var client = factory.CreateClient();
        var response = await client.GetAsync("/ui/runs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var doc = await Html.ParseAsync(response);
        Assert.NotEmpty(doc.QuerySelectorAll(".stat-card"));
        Assert.NotNull(doc.QuerySelector("#runs-list"));
    }
}
