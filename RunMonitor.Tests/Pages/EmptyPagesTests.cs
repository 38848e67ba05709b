using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Pages;

/// An empty tenant's pages say so, and what would fill them.
public sealed class EmptyPagesTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    [Fact]
    public async Task NoWorkerSeen_EmptyStateSaysSo()
    {
        var page = await factory.Bearer("beta", Roles.Viewer).GetDocumentAsync("/ui/workers");

        // It says how a worker comes to be listed: the two calls that count as its heartbeat.
        var empty = page.QuerySelector(".empty-state")!;
        Assert.StartsWith("No workers seen in the last 24 hours.", empty.Text());
        Assert.Equal(["POST /api/queue/claim", "POST /api/workers/{name}/heartbeat"], empty.QuerySelectorAll("code").Select(c => c.Text()));
        Assert.Null(page.QuerySelector("table.workers-table"));
    }

    [Fact]
    public async Task NoBulkOperation_EmptyStateLinksToTheRunsPage()
    {
        var page = await factory.Bearer("beta", Roles.Operator).GetDocumentAsync("/bulk");

        var empty = page.QuerySelector(".empty-state")!;
        Assert.StartsWith("No bulk operations yet.", empty.Text());
        Assert.Equal("/ui/runs", empty.QuerySelector("a")!.GetAttribute("href"));
        Assert.Null(page.QuerySelector(".bulk-operations"));
    }
}
