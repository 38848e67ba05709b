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
    public async Task Form_BadInput_400NamingTheParameter(string action, string all, string query, string parameter)
    {
        var response = await Alpha(Roles.Operator).PostAsync("/bulk", Form(("action", action), ("all", all), ("query", query)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
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
}

public sealed class BulkPageTestsOnPostgres(PostgresBulkFactory factory) : BulkPageTests(factory), IClassFixture<PostgresBulkFactory>;
