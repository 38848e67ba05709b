using System.Net;
using AngleSharp.Dom;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Bulk;

/// The runs page's side of bulk operations over HTTP: checkboxes and the bar for operators only, and the form that
/// works without JavaScript (`/bulk`: the confirmation, the typed count above 100, the operation's page).
public class BulkPageTests(BulkFactory factory) : IClassFixture<BulkFactory>
{
    private HttpClient Alpha(string role) => factory.Bearer("alpha", role);

    /// The operation of a `/bulk/{id}` address, with or without the `?list=` of the list its runs were chosen from.
    private static long OperationId(string location) =>
        long.Parse(location["/bulk/".Length..].Split('?')[0], System.Globalization.CultureInfo.InvariantCulture);

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));

    [Fact]
    public async Task RunsPage_Operator_ACheckboxPerRowAndTheBar_Viewer_Neither()
    {
        var workflow = BulkCalls.Workflow("page-marks");
        var ids = await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "failed", 3);

        var page = await Alpha(Roles.Operator).GetDocumentAsync($"/ui/runs?layer_name={workflow}");
        var viewer = await factory.Bearer("alpha", Roles.Viewer).GetDocumentAsync($"/ui/runs?layer_name={workflow}");
        var fragment = await Alpha(Roles.Operator).GetDocumentAsync($"/ui/runs/list?layer_name={workflow}");

        Assert.Equal(ids.AsEnumerable().Reverse(), page.QuerySelectorAll("table.runs-table tbody tr input.run-select").Select(i => i.GetAttribute("value")));
        Assert.NotNull(page.QuerySelector("table.runs-table thead input.run-select-page"));
        var bar = page.QuerySelector("form#bulk-form .bulk-bar")!;
        Assert.Equal(["retry", "retryFromFailedStep", "cancel"], bar.QuerySelectorAll("button[name=action]").Select(b => b.GetAttribute("value")));
        // "Cancel" alone, beside a bar, read as dismissing the bar: the button says what it cancels.
        Assert.Equal(["Retry", "Retry from failed step", "Cancel runs"], bar.QuerySelectorAll("button[name=action]").Select(b => b.Text().Squash()));
        Assert.Equal("3", bar.QuerySelector(".bulk-total").Text());
        Assert.Contains("Select all 3 matching this filter", bar.QuerySelector(".bulk-all").Text().Squash());
        Assert.Equal($"layer_name={workflow}", bar.QuerySelector("input[name=query]")!.GetAttribute("value"));
        // The rows' boxes are inside the form, so a plain submit posts them.
        Assert.Equal(3, page.QuerySelectorAll("form#bulk-form table.runs-table input.run-select").Length);
        Assert.Equal(3, fragment.QuerySelectorAll("input.run-select").Length);
        Assert.Contains("\"workflow\":", fragment.QuerySelector("#bulk-scope")!.GetAttribute("data-filter"));
        Assert.Empty(viewer.QuerySelectorAll("input.run-select"));
        Assert.Null(viewer.QuerySelector(".bulk-bar"));
        Assert.Equal(3, viewer.QuerySelectorAll("table.runs-table tbody tr").Length);
    }

    [Fact]
    public async Task Form_WithoutCount_Confirms_ThenStarts_AndLandsOnTheProgressPage()
    {
        var workflow = BulkCalls.Workflow("page-form");
        var ids = await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "failed", 2);
        var done = await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "completed", 1);

        var confirm = await Alpha(Roles.Operator).PostAsync("/bulk", Form(("action", "retry"), ("ids", ids[0]), ("ids", ids[1]), ("ids", done[0])));
        var confirmPage = await Html.ParseAsync(confirm);
        var form = confirmPage.QuerySelector("form.bulk-confirm")!;
        var start = await Alpha(Roles.Operator).PostAsync("/bulk", Form(form.QuerySelectorAll("input[type=hidden]")
            .Where(i => i.GetAttribute("name") != "__RequestVerificationToken")
            .Select(i => (i.GetAttribute("name")!, i.GetAttribute("value")!)).ToArray()));

        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal("Retry 2 runs?", confirmPage.QuerySelector("h1").Text());
        Assert.Equal("3 runs selected.", form.QuerySelector("p")!.Text().Squash());
        Assert.Equal("“Retry” applies to 2 of them now; the others are left as they are.", confirmPage.QuerySelector(".bulk-confirm-count").Text().Squash());
        Assert.Equal("2", form.QuerySelector("input[name=expectedCount]")!.GetAttribute("value"));
        Assert.Null(form.QuerySelector("input[name=confirmCount]"));
        Assert.Equal(HttpStatusCode.SeeOther, start.StatusCode);
        var location = start.Headers.Location!.OriginalString;
        Assert.Matches("^/bulk/[0-9]+$", location);
        var id = long.Parse(location["/bulk/".Length..], System.Globalization.CultureInfo.InvariantCulture);
        await BulkCalls.WaitAsync(Alpha(Roles.Operator), id);
        var progress = await Alpha(Roles.Operator).GetDocumentAsync(location);
        Assert.Equal("completed", progress.QuerySelector(".bulk-progress")!.GetAttribute("data-status"));
        Assert.Equal("2", progress.QuerySelector(".bulk-progress .bulk-succeeded").Text());
        foreach (var run in ids) Assert.Equal(1, await BulkCalls.RetriesOfAsync(factory.Services, run));
        Assert.Equal(0, await BulkCalls.RetriesOfAsync(factory.Services, done[0]));
        // The list of latest operations links it.
        Assert.NotNull((await Alpha(Roles.Operator).GetDocumentAsync("/bulk")).QuerySelector($".bulk-operations a[href='{location}']"));
    }

    [Fact]
    public async Task Form_SuperAdminsIds_TakeTheListsTenant_AnIdTwoTenantsHold_409WithoutOne()
    {
        var workflow = BulkCalls.Workflow("page-shared");
        var shared = "shared-" + Guid.NewGuid().ToString("N")[..8];
        await Alpha(Roles.Ingest).CreateRunAsync(new { id = shared, workflowName = workflow });
        await factory.Bearer("beta", Roles.Ingest).CreateRunAsync(new { id = shared, workflowName = workflow });
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);

        var ambiguous = await admin.PostAsync("/bulk", Form(("action", "cancel"), ("ids", shared), ("query", $"layer_name={workflow}")));
        var confirm = await admin.PostAsync("/bulk", Form(("action", "cancel"), ("ids", shared), ("query", $"layer_name={workflow}&tenant=beta")));
        var form = (await Html.ParseAsync(confirm)).QuerySelector("form.bulk-confirm")!;
        var start = await admin.PostAsync("/bulk", Form(form.QuerySelectorAll("input[type=hidden]")
            .Where(i => i.GetAttribute("name") != "__RequestVerificationToken")
            .Select(i => (i.GetAttribute("name")!, i.GetAttribute("value")!)).ToArray()));

        Assert.Equal(HttpStatusCode.Conflict, ambiguous.StatusCode);
        var error = (await Html.ParseAsync(ambiguous)).QuerySelector("p.error[data-parameter=ids]")!;
        Assert.Contains($"run id '{shared}' names runs of tenants alpha, beta", error.Text());
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal("1", form.QuerySelector("input[name=expectedCount]")!.GetAttribute("value"));
        Assert.Equal(HttpStatusCode.SeeOther, start.StatusCode);
        var id = OperationId(start.Headers.Location!.OriginalString);
        await BulkCalls.WaitAsync(admin, id);
        Assert.Equal("cancelled", (string)(await factory.Bearer("beta", Roles.Viewer).GetJsonAsync($"/api/runs/{shared}"))["status"]!);
        Assert.Equal("queued", (string)(await Alpha(Roles.Viewer).GetJsonAsync($"/api/runs/{shared}"))["status"]!);
    }

    [Fact]
    public async Task Form_AllMatchingAbove100_NeedsTheTypedCount()
    {
        var workflow = BulkCalls.Workflow("page-typed");
        await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "queued", 101);
        var fields = new[] { ("action", "cancel"), ("all", "true"), ("query", $"layer_name={workflow}&limit=20&sort=-created") };

        var confirm = await Html.ParseAsync(await Alpha(Roles.Operator).PostAsync("/bulk", Form(fields)));
        var untyped = await Alpha(Roles.Operator).PostAsync("/bulk", Form([.. fields, ("expectedCount", "101")]));
        var wrong = await Alpha(Roles.Operator).PostAsync("/bulk", Form([.. fields, ("expectedCount", "101"), ("confirmCount", "100")]));
        var typed = await Alpha(Roles.Operator).PostAsync("/bulk", Form([.. fields, ("expectedCount", "101"), ("confirmCount", "101")]));

        Assert.Equal("Cancel 101 runs?", confirm.QuerySelector("h1").Text());
        // The action quoted as its button in the bar reads, as the bar's dialog does.
        Assert.Equal("“Cancel runs” applies to all 101 of them.", confirm.QuerySelector(".bulk-confirm-count").Text().Squash());
        Assert.NotNull(confirm.QuerySelector("form.bulk-confirm input[name=confirmCount]"));
        Assert.Equal($"layer_name={workflow}", confirm.QuerySelector("form.bulk-confirm input[name=query]")!.GetAttribute("value"));
        // Both ways back land on the list the runs were chosen from, its filter kept.
        Assert.Equal([$"/ui/runs?layer_name={workflow}", $"/ui/runs?layer_name={workflow}"],
            confirm.QuerySelectorAll("main a[href^='/ui/runs']").Select(a => a.GetAttribute("href")));
        Assert.Equal(HttpStatusCode.BadRequest, untyped.StatusCode);
        Assert.Contains("Type 101", (await Html.ParseAsync(untyped)).QuerySelector("form.bulk-confirm p.error").Text());
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.SeeOther, typed.StatusCode);
    }

    /// The operation page's way back: to the list of the filter the operation acts on, as stored with it.
    [Fact]
    public async Task OperationPage_OfAFilter_LinksBackToTheListOfThatFilter()
    {
        var workflow = BulkCalls.Workflow("page-back-filter");
        await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "failed", 2);
        var id = await BulkCalls.StartAsync(Alpha(Roles.Operator), new { action = "retry", filter = new { workflow, status = "failed" }, expectedCount = 2 });

        var page = await Alpha(Roles.Operator).GetDocumentAsync($"/bulk/{id}");

        // The way back, and the filter the page names as the runs it acts on.
        var list = $"/ui/runs?layer_name={workflow}&status=failed";
        Assert.Equal([list, list], page.QuerySelectorAll("main a[href^='/ui/runs']").Select(a => a.GetAttribute("href")));
        var meta = page.QuerySelector(".bulk-progress .bulk-meta")!;
        Assert.Equal($"layer_name={workflow}&status=failed", meta.QuerySelector("a.bulk-filter")!.TextContent);
        Assert.StartsWith("Operation", meta.TextContent);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT", meta.QuerySelector("time")!.GetAttribute("datetime"));
        await BulkCalls.WaitAsync(Alpha(Roles.Operator), id);
        var ended = (await Alpha(Roles.Operator).GetDocumentAsync($"/bulk/{id}")).QuerySelector(".bulk-progress .bulk-meta")!;
        Assert.Contains(", ended ", ended.TextContent);
        Assert.Equal(2, ended.QuerySelectorAll("time").Length);
    }

    /// Runs chosen by their boxes: the form says which list they were chosen from, and both the confirmation and the
    /// operation's page lead back to it (its filter, sort and page size); the page opened without it leads to the list.
    [Fact]
    public async Task Form_Ids_FromAFilteredList_ConfirmationAndOperationPageLinkBackToThatList()
    {
        var workflow = BulkCalls.Workflow("page-back-ids");
        var ids = await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "failed", 2);
        var query = $"layer_name={workflow}&status=failed&sort=-duration&limit=50&offset=50";
        var list = $"/ui/runs?layer_name={workflow}&status=failed&sort=-duration&limit=50";

        var confirm = await Html.ParseAsync(await Alpha(Roles.Operator).PostAsync("/bulk", Form(("action", "retry"), ("ids", ids[0]), ("ids", ids[1]), ("query", query))));
        var start = await Alpha(Roles.Operator).PostAsync("/bulk", Form(("action", "retry"), ("ids", ids[0]), ("ids", ids[1]), ("query", query), ("expectedCount", "2")));
        var location = start.Headers.Location!.OriginalString;
        var operationPage = await Alpha(Roles.Operator).GetDocumentAsync(location);
        var plain = await Alpha(Roles.Operator).GetDocumentAsync($"/bulk/{OperationId(location)}");

        Assert.Equal([list, list], confirm.QuerySelectorAll("main a[href^='/ui/runs']").Select(a => a.GetAttribute("href")));
        Assert.Equal(HttpStatusCode.SeeOther, start.StatusCode);
        Assert.Matches("^/bulk/[0-9]+[?]list=", location);
        Assert.Equal([list], operationPage.QuerySelectorAll("main a[href^='/ui/runs']").Select(a => a.GetAttribute("href")));
        Assert.EndsWith(". On 2 chosen runs.", operationPage.QuerySelector(".bulk-progress .bulk-meta")!.TextContent);
        Assert.Equal(["/ui/runs"], plain.QuerySelectorAll("main a[href^='/ui/runs']").Select(a => a.GetAttribute("href")));
        await BulkCalls.WaitAsync(Alpha(Roles.Operator), OperationId(location));
    }

    [Theory]
    [InlineData("list=status%3Dbogus", "list")]
    [InlineData("list=a&list=b", "list")]
    [InlineData("from=x", "from")]
    [InlineData("offset=x", "offset")]
    [InlineData("offset=-1", "offset")]
    [InlineData("offset=1&offset=2", "offset")]
    public async Task OperationPage_BadListOrAnotherParameter_400NamingIt(string query, string parameter)
    {
        var id = await BulkCalls.StartAsync(Alpha(Roles.Operator), new { action = "cancel", ids = new[] { "no-such-run-back" }, expectedCount = 0 });

        var response = await Alpha(Roles.Operator).GetAsync($"/bulk/{id}?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Theory]
    [InlineData("delete", "false", "", "action")]
    [InlineData("retry", "false", "", "ids")]
    [InlineData("retry", "true", "status=bogus", "status")]
    [InlineData("retry", "bogus", "", "all")]
    // A NUL the form's own fields could not carry, hidden in its query (decoded a second time): PostgreSQL refused it with a 500.
    [InlineData("cancel", "true", "q=%00", "query")]
    [InlineData("cancel", "true", "layer_name=%00", "query")]
    [InlineData("cancel", "true", "q=ab%00", "query")]
    public async Task Form_BadInput_400NamingTheParameter(string action, string all, string query, string parameter)
    {
        var response = await Alpha(Roles.Operator).PostAsync("/bulk", Form(("action", action), ("all", all), ("query", query)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("-x")]
    public async Task Form_IdThatIsNoRunId_400NamingIds(string id)
    {
        // Arrange: such an id matched no run, and the confirmation counted 0 without a word.
        // Act
        var response = await Alpha(Roles.Operator).PostAsync("/bulk", Form(("action", "cancel"), ("all", "false"), ("ids", id)));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("ids", (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task Form_ActionGivenTwiceOrAFieldTheFormHasNot_400NamingIt_NothingStarted()
    {
        var workflow = BulkCalls.Workflow("page-refused");
        await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "failed", 2);
        var client = Alpha(Roles.Operator);
        async Task<string?> LatestAsync() => (await client.GetJsonAsync("/api/bulk")).AsArray().FirstOrDefault()?["id"]?.ToJsonString();
        var before = await LatestAsync();

        var twice = await client.PostAsync("/bulk", Form(("action", "retry"), ("action", "cancel"), ("all", "true"), ("query", $"layer_name={workflow}"), ("expectedCount", "2")));
        var unknown = await client.PostAsync("/bulk", Form(("action", "retry"), ("all", "true"), ("query", $"layer_name={workflow}"), ("expectedCount", "2"), ("bogus", "1")));

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (twice.StatusCode, unknown.StatusCode));
        Assert.Equal("action", (await Html.ParseAsync(twice)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        Assert.Equal("bogus", (await Html.ParseAsync(unknown)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        Assert.Equal(before, await LatestAsync());
    }

    [Fact]
    public async Task Form_CountChangedSinceConfirmation_409AndConfirmsAgainWithTheNewCount()
    {
        var workflow = BulkCalls.Workflow("page-changed");
        await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "failed", 2);

        var response = await Alpha(Roles.Operator).PostAsync("/bulk", Form(("action", "retry"), ("all", "true"), ("query", $"layer_name={workflow}"), ("expectedCount", "5")));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Contains("2 runs are eligible now, not 5", page.QuerySelector("form.bulk-confirm p.error").Text());
        Assert.Equal("2", page.QuerySelector("form.bulk-confirm input[name=expectedCount]")!.GetAttribute("value"));
    }

    /// `count` runs of `status` of a workflow of the test's own, `action` taken on them by their ids and followed to its
    /// end, and the operation's page as it then reads.
    private async Task<(string Workflow, List<string> Ids, IDocument Page)> FinishedOperationPageAsync(string name, string action, string status, int count)
    {
        var workflow = BulkCalls.Workflow(name);
        var ids = await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, status, count);
        var id = await BulkCalls.StartAsync(Alpha(Roles.Operator), new { action, ids, expectedCount = count });
        await BulkCalls.WaitAsync(Alpha(Roles.Operator), id);
        return (workflow, ids, await Alpha(Roles.Operator).GetDocumentAsync($"/bulk/{id}"));
    }

    /// The run a retry made of `run`, read from the API (its `retryOf`).
    private async Task<string> RetryOfAsync(HttpClient client, string workflow, string run)
    {
        var items = (await client.GetJsonAsync($"/api/runs?workflow={workflow}&limit=100"))["items"]!.AsArray();
        return (string)items.Single(r => (string?)r!["retryOf"] == run)!["id"]!;
    }

    [Fact]
    public async Task OperationPage_Retry_ListsEachRunWithItsOutcomeAndTheRunItsRetryMade()
    {
        var (workflow, ids, page) = await FinishedOperationPageAsync("page-items", "retry", "failed", 3);

        var rows = page.QuerySelectorAll("section.bulk-items table.bulk-items-table tbody tr.bulk-item");
        // In the operation's order: the runs' own, oldest first.
        Assert.Equal(ids, rows.Select(r => r.GetAttribute("data-run-id")));
        foreach (var (row, run) in rows.Zip(ids))
        {
            Assert.Equal($"/runs/{run}", row.QuerySelector("a.run-name")!.GetAttribute("href"));
            Assert.Equal(workflow, row.QuerySelector("td.workflow").Text());
            Assert.Equal("succeeded", row.QuerySelector(".bulk-item-outcome .badge")!.GetAttribute("data-status"));
            var retry = await RetryOfAsync(Alpha(Roles.Viewer), workflow, run);
            var link = row.QuerySelector(".bulk-retry a.bulk-new-run")!;
            Assert.Equal((retry, $"/runs/{retry}"), (link.Text(), link.GetAttribute("href")));
            Assert.NotNull(row.QuerySelector(".bulk-retry .badge[data-status]"));
        }
        Assert.Equal("Retry", page.QuerySelectorAll("table.bulk-items-table thead th").Last().Text());
        Assert.Equal("1-3 of 3", page.QuerySelector(".bulk-items .page-info").Text());
        Assert.Null(page.QuerySelector(".bulk-items .pagination"));
        Assert.Equal("/bulk", page.QuerySelector("main .back-links a[href='/bulk']")!.GetAttribute("href"));
    }

    [Fact]
    public async Task OperationPage_Cancel_ShowsEachRunsStatusNow()
    {
        var (_, ids, page) = await FinishedOperationPageAsync("page-items-cancel", "cancel", "queued", 2);

        var rows = page.QuerySelectorAll("table.bulk-items-table tbody tr.bulk-item");
        Assert.Equal(ids, rows.Select(r => r.GetAttribute("data-run-id")));
        Assert.All(rows, r => Assert.Equal("cancelled", r.QuerySelector(".bulk-run-now .badge")!.GetAttribute("data-status")));
        Assert.Empty(page.QuerySelectorAll(".bulk-new-run"));
        Assert.Equal("Detail", page.QuerySelectorAll("table.bulk-items-table thead th").Last().Text());
    }

    [Fact]
    public async Task OperationPage_CancelOfRunningRuns_SaysTheCancelIsRequestedUntilTheWorkerStops()
    {
        var (_, ids, page) = await FinishedOperationPageAsync("page-items-cancel-running", "cancel", "running", 2);

        var rows = page.QuerySelectorAll("table.bulk-items-table tbody tr.bulk-item");
        Assert.Equal(ids, rows.Select(r => r.GetAttribute("data-run-id")));
        Assert.All(rows, r => Assert.Equal("now running cancel requested, until its worker stops it", r.QuerySelector(".bulk-run-now")!.Text().Squash()));
    }

    [Fact]
    public async Task OperationPage_MoreRunsThanAPage_PagedByOffset_PastTheEndSaysSo()
    {
        var workflow = BulkCalls.Workflow("page-items-paged");
        var ids = await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "queued", 53);
        var id = await BulkCalls.StartAsync(Alpha(Roles.Operator), new { action = "cancel", filter = new { workflow }, expectedCount = 53 });
        await BulkCalls.WaitAsync(Alpha(Roles.Operator), id);

        var first = await Alpha(Roles.Operator).GetDocumentAsync($"/bulk/{id}");
        var next = first.QuerySelector(".bulk-items .pagination a[rel=next]")!.GetAttribute("href")!;
        var second = await Alpha(Roles.Operator).GetDocumentAsync(next);
        var past = await Alpha(Roles.Operator).GetDocumentAsync($"/bulk/{id}?offset=500");

        Assert.Equal(ids.Take(50), first.QuerySelectorAll("tr.bulk-item").Select(r => r.GetAttribute("data-run-id")));
        Assert.Equal("1-50 of 53", first.QuerySelector(".bulk-items .page-info").Text());
        Assert.Null(first.QuerySelector(".bulk-items a[rel=prev]"));
        Assert.Equal($"/bulk/{id}?offset=50", next);
        Assert.Equal(ids.Skip(50), second.QuerySelectorAll("tr.bulk-item").Select(r => r.GetAttribute("data-run-id")));
        Assert.Equal("51-53 of 53", second.QuerySelector(".bulk-items .page-info").Text());
        Assert.Equal($"/bulk/{id}", second.QuerySelector(".bulk-items a[rel=prev]")!.GetAttribute("href"));
        Assert.Null(second.QuerySelector(".bulk-items a[rel=next]"));
        Assert.Empty(past.QuerySelectorAll("tr.bulk-item"));
        Assert.NotNull(past.QuerySelector(".bulk-items .empty-state"));
        Assert.Equal($"/bulk/{id}", past.QuerySelector(".bulk-items .past-end a")!.GetAttribute("href"));
    }

    /// A super admin's operation over every tenant names each run's tenant, and its links say which tenant's run is meant.
    [Fact]
    public async Task OperationPage_SuperAdminsOverEveryTenant_ShowsAndLinksEachRunsTenant()
    {
        var workflow = BulkCalls.Workflow("page-items-tenants");
        var alpha = await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "queued", 1);
        var beta = await BulkCalls.RunsAsync(factory.Bearer("beta", Roles.Ingest), workflow, "queued", 1);
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);
        var id = await BulkCalls.StartAsync(admin, new { action = "cancel", filter = new { workflow }, expectedCount = 2 });
        await BulkCalls.WaitAsync(admin, id);

        var page = await admin.GetDocumentAsync($"/bulk/{id}");
        var list = await admin.GetDocumentAsync("/bulk");

        Assert.Equal(["alpha", "beta"], page.QuerySelectorAll("tr.bulk-item .tenant-tag").Select(t => t.Text()));
        Assert.Equal([$"/runs/{alpha[0]}?tenant=alpha", $"/runs/{beta[0]}?tenant=beta"], page.QuerySelectorAll("tr.bulk-item a.run-name").Select(a => a.GetAttribute("href")));
        Assert.Equal("all tenants", list.QuerySelector($"table.bulk-operations tr[data-operation='{id}'] .tenant-tag").Text());
        // A tenant's operator sees neither the operation nor its runs.
        Assert.Equal(HttpStatusCode.NotFound, (await Alpha(Roles.Operator).GetAsync($"/bulk/{id}")).StatusCode);
    }

    [Fact]
    public async Task ListPage_ATableRowPerOperation_WithStatusWhoWhenAndCounts()
    {
        var workflow = BulkCalls.Workflow("page-list");
        await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "failed", 2);
        await BulkCalls.RunsAsync(Alpha(Roles.Ingest), workflow, "completed", 1);
        var id = await BulkCalls.StartAsync(Alpha(Roles.Operator), new { action = "retry", filter = new { workflow }, expectedCount = 2 });
        await BulkCalls.WaitAsync(Alpha(Roles.Operator), id);

        var page = await Alpha(Roles.Operator).GetDocumentAsync("/bulk");

        Assert.Equal("Bulk operations", page.QuerySelector("main .page-head h1").Text());
        var row = page.QuerySelector($"table.bulk-table.bulk-operations tbody tr.bulk-operation[data-operation='{id}']")!;
        Assert.Equal(($"/bulk/{id}", "Retry of 2 runs"), (row.QuerySelector("a.bulk-operation-name")!.GetAttribute("href"), row.QuerySelector("a.bulk-operation-name").Text()));
        Assert.Equal("completed", row.QuerySelector("span.badge.bulk-status.bulk-status-completed").Text().Squash());
        Assert.StartsWith("key ", row.QuerySelector(".bulk-created-by").Text());
        var time = row.QuerySelector("td.time time")!;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT", time.GetAttribute("datetime"));
        Assert.EndsWith("UTC", time.GetAttribute("title"));
        Assert.Equal(("3", "2 / 2", "2", "0", "0"), (row.QuerySelector(".bulk-matched").Text(), row.QuerySelector(".bulk-done").Text().Squash(),
            row.QuerySelector(".bulk-succeeded").Text(), row.QuerySelector(".bulk-skipped").Text(), row.QuerySelector(".bulk-failed").Text()));
        Assert.Equal("2 of 2 done, 0 failed", row.QuerySelector(".bulk-operation-counts").Text());
        Assert.Empty(page.QuerySelectorAll("main a[href^='/ui/runs']"));
        var paged = await Alpha(Roles.Operator).GetAsync("/bulk?offset=50");
        Assert.Equal(HttpStatusCode.BadRequest, paged.StatusCode);
        Assert.Equal("offset", (await Html.ParseAsync(paged)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        // The tenant's own list: no tenant column.
        Assert.DoesNotContain("Tenant", page.QuerySelectorAll("table.bulk-operations thead th").Select(th => th.Text()));
    }

    /// The progress card, wherever it shows (the runs page after a start, the operation's page), links to its page.
    [Fact]
    public async Task ProgressCard_LinksToTheOperationsPage()
    {
        var id = await BulkCalls.StartAsync(Alpha(Roles.Operator), new { action = "cancel", ids = new[] { "no-such-run-card" }, expectedCount = 0 });

        var card = await Alpha(Roles.Operator).GetDocumentAsync($"/ui/bulk/{id}");

        Assert.Equal($"/bulk/{id}", card.QuerySelector(".bulk-progress .bulk-meta a.bulk-page-link")!.GetAttribute("href"));
    }

    [Theory]
    [InlineData(Roles.Operator, true)]
    [InlineData(Roles.Admin, true)]
    [InlineData(Roles.Viewer, false)]
    [InlineData(Roles.Ingest, false)]
    public async Task Navigation_Bulk_ForTheRolesThatRunBulkActions(string role, bool shown)
    {
        var page = await factory.Bearer("alpha", role).GetDocumentAsync("/ui/workers");

        Assert.Equal(shown, page.QuerySelector("header nav a[href='/bulk']") is not null);
        if (shown)
            Assert.Equal("page", (await factory.Bearer("alpha", role).GetDocumentAsync("/bulk")).QuerySelector("header nav a[href='/bulk']")!.GetAttribute("aria-current"));
    }
}

public sealed class BulkPageTestsOnPostgres(PostgresBulkFactory factory) : BulkPageTests(factory), IClassFixture<PostgresBulkFactory>;
