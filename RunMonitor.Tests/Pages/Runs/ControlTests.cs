using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Pages.Runs;

/// The UI side of control: the actions block in the modal, the POST handlers behind its dialogs
/// (antiforgery, HX-Trigger toasts, 409 reasons), the live fragment and its event stream.
public class ControlTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> RunAsync(string workflow, string status, bool failedStep = false)
    {
        var id = (await _client.CreateRunAsync(new
        {
            workflowName = workflow, status = status == "queued" ? "queued" : "running",
            steps = new[] { new { stepId = "a" }, new { stepId = "b" } },
        })).GetProperty("id").GetString()!;
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/a", new { status = "completed", output = new { n = 1 } });
        if (failedStep) await _client.PutAsJsonAsync($"/api/runs/{id}/steps/b", new { status = "failed" });
        if (status is not ("queued" or "running")) await _client.PatchJsonAsync($"/api/runs/{id}", new { status });
        return id;
    }

    /// The page's antiforgery token (from `<body hx-headers>`); the cookie stays in the client.
    private async Task<string> TokenAsync()
    {
        var doc = await _client.GetDocumentAsync("/ui/runs");
        var headers = doc.QuerySelector("body")!.GetAttribute("hx-headers")!;
        return JsonDocument.Parse(headers).RootElement.GetProperty("RequestVerificationToken").GetString()!;
    }

    private Task<HttpResponseMessage> PostAsync(string url, Dictionary<string, string>? form = null, bool withToken = true) =>
        PostBodyAsync(url, new FormUrlEncodedContent(form ?? []), withToken);

    /// A form body as written (a field given twice, which a dictionary cannot hold).
    private async Task<HttpResponseMessage> PostBodyAsync(string url, HttpContent form, bool withToken = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = form };
        request.Headers.Add("HX-Request", "true");
        if (withToken) request.Headers.Add("RequestVerificationToken", await TokenAsync());
        return await _client.SendAsync(request);
    }

    private static JsonElement Triggers(HttpResponseMessage response) =>
        JsonDocument.Parse(response.Headers.GetValues("HX-Trigger").Single()).RootElement;

    [Fact]
    public async Task Modal_FailedRunWithFailedStep_ShowsRetryButtonsEachBehindALabelledDialog()
    {
        var id = await RunAsync("ui-modal-failed", "failed", failedStep: true);

        var doc = await _client.GetDocumentAsync($"/ui/runs/{id}");

        var actions = doc.QuerySelector(".modal-content .run-actions")!;
        var buttons = actions.QuerySelectorAll("button[data-dialog-open]").Select(b => b.GetAttribute("data-action")).ToList();
        Assert.Equal(["retry", "retry-failed"], buttons);
        foreach (var button in actions.QuerySelectorAll("button[data-dialog-open]"))
        {
            var dialog = doc.GetElementById(button.GetAttribute("data-dialog-open")!)!;
            Assert.Equal("DIALOG", dialog.TagName);
            Assert.NotNull(doc.GetElementById(dialog.GetAttribute("aria-labelledby")!));
            Assert.Equal($"/ui/runs/{id}/retry", dialog.QuerySelector("form")!.GetAttribute("hx-post"));
            Assert.NotNull(dialog.QuerySelector("[data-dialog-close]"));
        }
        Assert.Equal("true", doc.QuerySelector($"#{CssId($"modal-retry-failed-dialog-{id}")} input[name=fromFailedStep]")?.GetAttribute("value"));
    }

    private static string CssId(string id) => id.Replace(":", "\\:").Replace(".", "\\.");

    [Theory]
    [InlineData("completed", new[] { "run-again" })]
    [InlineData("running", new[] { "cancel" })]
    [InlineData("queued", new[] { "cancel" })]
    [InlineData("cancelled", new[] { "retry" })]
    public async Task Modal_ByStatus_ShowsOnlyAllowedActions(string status, string[] expected)
    {
        var id = await RunAsync("ui-modal-" + status, status);

        var doc = await _client.GetDocumentAsync($"/ui/runs/{id}");

        var actions = doc.QuerySelectorAll(".run-actions button[data-dialog-open]").Select(b => b.GetAttribute("data-action"));
        Assert.Equal(expected, actions);
    }

    [Fact]
    public async Task Actions_Fragment_ScopedIdsAnd404()
    {
        var id = await RunAsync("ui-actions", "failed");

        var page = await _client.GetDocumentAsync($"/ui/runs/{id}/actions?scope=page");
        var missing = await _client.GetAsync("/ui/runs/no-such-run/actions");

        Assert.Equal($"page-retry-dialog-{id}", page.QuerySelector(".run-actions button[data-action=retry]")?.GetAttribute("data-dialog-open"));
        Assert.Equal($"/ui/runs/{id}/retry?scope=page", page.QuerySelector($"dialog form")?.GetAttribute("hx-post"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task PostRetry_WithToken_QueuesRetryAndAnswersToastLinkAndRunsChanged()
    {
        var id = await RunAsync("ui-retry", "failed", failedStep: true);

        var response = await PostAsync($"/ui/runs/{id}/retry");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var triggers = Triggers(response);
        var toast = triggers.GetProperty("showToast");
        Assert.Equal("success", toast.GetProperty("level").GetString());
        var href = toast.GetProperty("href").GetString()!;
        Assert.StartsWith("/runs/", href);
        Assert.True(triggers.TryGetProperty("runsChanged", out _));
        var doc = await Html.ParseAsync(response);
        Assert.Equal(href, doc.QuerySelector(".run-actions .run-action-notice a")?.GetAttribute("href"));
        var newId = href["/runs/".Length..];
        var run = await _client.GetJsonAsync($"/api/runs/{newId}");
        Assert.Equal(id, (string?)run["retryOf"]);
        Assert.Equal("queued", (string?)run["status"]);
    }

    [Fact]
    public async Task PostRetry_FromFailedStep_KeepsCompletedSteps()
    {
        var id = await RunAsync("ui-retry-failed", "failed", failedStep: true);

        var response = await PostAsync($"/ui/runs/{id}/retry", new() { ["fromFailedStep"] = "true" });

        var newId = Triggers(response).GetProperty("showToast").GetProperty("href").GetString()!["/runs/".Length..];
        var steps = await _client.GetJsonAsync($"/api/runs/{newId}/steps");
        Assert.Equal(["completed", "pending"], steps.AsArray().Select(s => (string?)s!["status"]));
    }

    [Fact]
    public async Task PostRetry_BadFromFailedStep_Answers400WithToast()
    {
        var id = await RunAsync("ui-retry-bad", "failed", failedStep: true);

        var response = await PostAsync($"/ui/runs/{id}/retry", new() { ["fromFailedStep"] = "maybe" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("fromFailedStep", Triggers(response).GetProperty("showToast").GetProperty("message").GetString());
    }

    [Fact]
    public async Task PostRetry_WithoutToken_IsRefused400()
    {
        var id = await RunAsync("ui-retry-csrf", "failed");

        var response = await PostAsync($"/ui/runs/{id}/retry", withToken: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, (long?)(await _client.GetJsonAsync("/api/runs?workflow=ui-retry-csrf"))["total"]);
    }

    private async Task<string> PayloadRunAsync(string workflow, string status)
    {
        var id = (await _client.CreateRunAsync(new { workflowName = workflow, status, triggerPayload = new { campaignId = "cmp_1", size = 3 } })).GetProperty("id").GetString()!;
        return id;
    }

    private static string NewRunId(HttpResponseMessage response) =>
        Triggers(response).GetProperty("showToast").GetProperty("href").GetString()!["/runs/".Length..];

    [Fact]
    public async Task RunPage_RetryDialog_EditInputHoldsTheRunsPayloadAsIndentedJson_ModalLoadsItOnOpen()
    {
        var id = await PayloadRunAsync("ui-edit-shown", "failed");

        var page = await _client.GetDocumentAsync($"/runs/{id}");
        var modal = await _client.GetDocumentAsync($"/ui/runs/{id}");

        var dialog = page.QuerySelector($"#{CssId($"page-retry-dialog-{id}")}")!;
        Assert.Equal("Edit input", dialog.QuerySelector("details.edit-input summary").Text());
        var textarea = dialog.QuerySelector("details.edit-input textarea[name=triggerPayload]")!;
        Assert.NotNull(page.QuerySelector($"label[for='{textarea.Id}']"));
        Assert.Equal("cmp_1", JsonDocument.Parse(textarea.TextContent).RootElement.GetProperty("campaignId").GetString());
        Assert.Contains('\n', textarea.TextContent.Trim());
        // The modal reads no payloads: its field waits, disabled (so never sent), for the payload it loads when opened.
        var lazy = modal.QuerySelector($"#{CssId($"modal-retry-dialog-{id}")} textarea[name=triggerPayload]")!;
        Assert.True(lazy.HasAttribute("disabled"));
        var payload = await _client.GetStringAsync(lazy.GetAttribute("data-payload-url"));
        Assert.Equal("cmp_1", JsonDocument.Parse(payload).RootElement.GetProperty("campaignId").GetString());
    }

    [Fact]
    public async Task PostRetry_EditedPayload_NewRunGetsIt_ToastSaysEdited()
    {
        var id = await PayloadRunAsync("ui-edit-post", "failed");

        var response = await PostAsync($"/ui/runs/{id}/retry", new() { ["triggerPayload"] = """{ "campaignId": "cmp_2" }""" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("with edited input", Triggers(response).GetProperty("showToast").GetProperty("message").GetString());
        var run = await _client.GetJsonAsync($"/api/runs/{NewRunId(response)}");
        Assert.Equal("""{"campaignId":"cmp_2"}""", run["triggerPayload"]!.ToJsonString());
    }

    [Fact]
    public async Task PostRetry_PayloadLeftAsShown_NoEdit_NewRunKeepsThePayload()
    {
        var id = await PayloadRunAsync("ui-edit-same", "failed");
        var shown = (await _client.GetDocumentAsync($"/runs/{id}")).QuerySelector("textarea[name=triggerPayload]")!.TextContent;

        var response = await PostAsync($"/ui/runs/{id}/retry", new() { ["triggerPayload"] = shown.Replace("\n", "\r\n") });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("edited", Triggers(response).GetProperty("showToast").GetProperty("message").GetString());
        Assert.Equal("""{"campaignId":"cmp_1","size":3}""", (await _client.GetJsonAsync($"/api/runs/{NewRunId(response)}"))["triggerPayload"]!.ToJsonString());
    }

    [Theory]
    [InlineData("{campaignId: 1}")]
    [InlineData("")]
    [InlineData("{\"a\":1} trailing")]
    public async Task PostRetry_PayloadNotJson_400NamingTriggerPayload_NothingQueued(string text)
    {
        var id = await PayloadRunAsync("ui-edit-bad", "failed");

        var response = await PostAsync($"/ui/runs/{id}/retry", new() { ["triggerPayload"] = text });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("triggerPayload must be JSON", (await Html.ParseAsync(response)).QuerySelector("p.error").Text());
        Assert.Equal(1L, (long?)(await _client.GetJsonAsync("/api/runs?workflow=ui-edit-bad&q=" + id))["total"]);
    }

    [Theory]
    [InlineData("text/plain", "triggerPayload=%7B%7D")]
    [InlineData("application/json", """{"triggerPayload":{}}""")]
    public async Task PostRetry_BodyNotAForm_415_NothingQueued(string contentType, string body)
    {
        // Arrange: the form's field was not read from such a body, and the retry went ahead with the old payload.
        var workflow = "ui-edit-notform-" + contentType.Split('/')[1];
        var id = await PayloadRunAsync(workflow, "failed");

        // Act
        var response = await PostBodyAsync($"/ui/runs/{id}/retry?scope=page", new StringContent(body, System.Text.Encoding.UTF8, contentType));

        // Assert
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("body", (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        Assert.Equal(1L, (long?)(await _client.GetJsonAsync("/api/runs?workflow=" + workflow))["total"]);
    }

    [Fact]
    public async Task PostRetry_PayloadSentAsAFile_400NamingTriggerPayload_NothingQueued()
    {
        // Arrange: a file part is no form field, so the edited input was read as not sent.
        var id = await PayloadRunAsync("ui-edit-file", "failed");
        var form = new MultipartFormDataContent { { new ByteArrayContent("{}"u8.ToArray()), "triggerPayload", "payload.json" } };

        // Act
        var response = await PostBodyAsync($"/ui/runs/{id}/retry?scope=page", form);

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("triggerPayload", (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        Assert.Equal(1L, (long?)(await _client.GetJsonAsync("/api/runs?workflow=ui-edit-file"))["total"]);
    }

    [Fact]
    public async Task PostRunAgain_CompletedRun_NewLinkedRun_RunningRun409()
    {
        var done = await PayloadRunAsync("ui-run-again", "completed");
        var running = await RunAsync("ui-run-again-running", "running");

        var again = await PostAsync($"/ui/runs/{done}/retry", new() { ["runAgain"] = "true", ["triggerPayload"] = """{"campaignId":"cmp_3"}""" });
        var refused = await PostAsync($"/ui/runs/{running}/retry", new() { ["runAgain"] = "true" });

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.StartsWith("Run again with edited input", Triggers(again).GetProperty("showToast").GetProperty("message").GetString());
        var run = await _client.GetJsonAsync($"/api/runs/{NewRunId(again)}");
        Assert.Equal(done, (string?)run["retryOf"]);
        Assert.Equal("cmp_3", (string?)run["triggerPayload"]!["campaignId"]);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("only a finished run can be run again", (await Html.ParseAsync(refused)).QuerySelector("p.error").Text());
    }

    [Fact]
    public async Task PostRetry_CompletedRun_Answers409WithReasonAsErrorToast()
    {
        var id = await RunAsync("ui-retry-409", "completed");

        var response = await PostAsync($"/ui/runs/{id}/retry");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var toast = Triggers(response).GetProperty("showToast");
        Assert.Equal("error", toast.GetProperty("level").GetString());
        Assert.Contains("run is completed", toast.GetProperty("message").GetString());
        Assert.Contains("run is completed", (await Html.ParseAsync(response)).QuerySelector("p.error").Text());
    }

    /// Input the page's forms never send is refused before anything is done: a field or query parameter the form does
    /// not hold, one given twice, or a scope other than the two the page writes.
    [Theory]
    [InlineData("retry?scope=bogus", "", "scope")]
    [InlineData("retry?scope=page&scope=modal", "", "scope")]
    [InlineData("retry", "bogus=1", "bogus")]
    [InlineData("retry", "fromFailedStep=true&fromFailedStep=false", "fromFailedStep")]
    [InlineData("cancel?scope=bogus", "", "scope")]
    [InlineData("cancel", "bogus=1", "bogus")]
    public async Task Post_UnknownRepeatedOrOutOfRangeInput_400NamingIt_NothingDone(string action, string form, string parameter)
    {
        var workflow = "ui-refused-" + Guid.NewGuid().ToString("N")[..8];
        var status = action.StartsWith("cancel", StringComparison.Ordinal) ? "queued" : "failed";
        var id = await RunAsync(workflow, status, failedStep: status == "failed");

        var response = await PostBodyAsync($"/ui/runs/{id}/{action}", new StringContent(form, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        Assert.Equal(1L, (long?)(await _client.GetJsonAsync($"/api/runs?workflow={workflow}"))["total"]);
        Assert.Equal(status, (string?)(await _client.GetJsonAsync($"/api/runs/{id}"))["status"]);
    }

    [Fact]
    public async Task Actions_ScopeNeitherPageNorModal_Answers400NamingScope()
    {
        var id = await RunAsync("ui-actions-scope", "failed");

        var response = await _client.GetAsync($"/ui/runs/{id}/actions?scope=bogus");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("scope", (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
    }

    [Fact]
    public async Task PostCancel_UnknownRun_Answers404WithToast()
    {
        var response = await PostAsync("/ui/runs/no-such-run/cancel");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Run not found", Triggers(response).GetProperty("showToast").GetProperty("message").GetString());
    }

    [Fact]
    public async Task PostCancel_QueuedRun_CancelsAndRerendersActionsWithoutCancel()
    {
        var id = await RunAsync("ui-cancel", "queued");

        var response = await PostAsync($"/ui/runs/{id}/cancel");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Triggers(response).TryGetProperty("runsChanged", out _));
        var doc = await Html.ParseAsync(response);
        Assert.Equal(["retry"], doc.QuerySelectorAll(".run-actions button[data-dialog-open]").Select(b => b.GetAttribute("data-action")));
        Assert.Equal("cancelled", (string?)(await _client.GetJsonAsync($"/api/runs/{id}"))["status"]);
    }

    [Fact]
    public async Task Live_RunningRun_RefreshesOnSseAndEveryFiveSeconds()
    {
        var id = await RunAsync("ui-live", "running");

        var modal = await _client.GetDocumentAsync($"/ui/runs/{id}");
        var response = await _client.GetAsync($"/ui/runs/{id}/live?seen=running");

        var section = modal.QuerySelector(".run-live")!;
        Assert.Equal($"/ui/runs/{id}/events", section.GetAttribute("data-sse-connect"));
        Assert.Equal("sse", section.GetAttribute("hx-ext"));
        Assert.Equal("end", section.GetAttribute("data-sse-close"));
        var body = section.QuerySelector(".run-live-body")!;
        Assert.Equal("sse:run, every 5s", body.GetAttribute("hx-trigger"));
        Assert.Equal($"/ui/runs/{id}/live?seen=running&badge=false", body.GetAttribute("hx-get"));
        Assert.Equal($"/ui/runs/{id}", section.QuerySelector(".run-live-reload")?.GetAttribute("hx-get"));
        Assert.Equal("runStatusChanged from:body", section.QuerySelector(".run-live-reload")?.GetAttribute("hx-trigger"));
        Assert.Equal("innerHTML", body.GetAttribute("hx-swap"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var state = (await Html.ParseAsync(response)).QuerySelector(".run-live-state")!;
        Assert.Equal("running", state.GetAttribute("data-run-status"));
        Assert.Equal("running", state.QuerySelector("span.badge")?.Text());
        Assert.Equal("completed", state.QuerySelector(".live-step[data-step-id=a]")?.GetAttribute("data-step-status"));
    }

    [Fact]
    public async Task Live_FinishedRunInModal_HasNoStreamAndNoPolling()
    {
        var id = await RunAsync("ui-live-static", "completed");

        var modal = await _client.GetDocumentAsync($"/ui/runs/{id}");

        Assert.Null(modal.QuerySelector(".run-live")!.GetAttribute("data-sse-connect"));
        Assert.Null(modal.QuerySelector(".run-live [hx-trigger]"));
    }

    [Fact]
    public async Task Live_RunFinishedWhileWatched_Answers286WithToastAndNoMorePolling()
    {
        var id = await RunAsync("ui-live-done", "failed");

        var response = await _client.GetAsync($"/ui/runs/{id}/live?seen=running");
        var unwatched = await _client.GetAsync($"/ui/runs/{id}/live");

        Assert.Equal(286, (int)response.StatusCode);
        var triggers = Triggers(response);
        Assert.Contains("finished: failed", triggers.GetProperty("showToast").GetProperty("message").GetString());
        Assert.Equal("info", triggers.GetProperty("showToast").GetProperty("level").GetString()); // role="status", not an alert
        Assert.Equal("failed", triggers.GetProperty("runFinished").GetProperty("status").GetString());
        Assert.Equal("failed", triggers.GetProperty("runStatusChanged").GetProperty("status").GetString());
        var doc = await Html.ParseAsync(response);
        Assert.Equal("failed", doc.QuerySelector(".run-live-state")?.GetAttribute("data-run-status"));
        Assert.Null(doc.QuerySelector("[hx-trigger]"));
        Assert.Equal(286, (int)unwatched.StatusCode);
        Assert.False(unwatched.Headers.Contains("HX-Trigger"));
    }

    [Fact]
    public async Task Live_BadSeenOrUnknownRun_Answers400Or404Fragment()
    {
        var id = await RunAsync("ui-live-bad", "running");

        var bad = await _client.GetAsync($"/ui/runs/{id}/live?seen=sleeping");
        var badBadge = await _client.GetAsync($"/ui/runs/{id}/live?badge=maybe");
        var missing = await _client.GetAsync("/ui/runs/no-such-run/live");

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("seen", (await Html.ParseAsync(bad)).QuerySelector("p.error")?.GetAttribute("data-parameter"));
        Assert.Equal(HttpStatusCode.BadRequest, badBadge.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Run not found", (await Html.ParseAsync(missing)).QuerySelector("p").Text());
    }

    [Fact]
    public async Task Live_SeveralBadParameters_Answers400NamingEachInQueryOrder()
    {
        var id = await RunAsync("ui-live-bad-params", "running");

        var response = await _client.GetAsync($"/ui/runs/{id}/live?seen=sleeping&steps=maybe&badge=maybe");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["seen", "steps", "badge"], (await Html.ParseAsync(response)).QuerySelectorAll("p.error").Select(e => e.GetAttribute("data-parameter")));
    }

    [Fact]
    public async Task Events_RunningRun_StreamsChangesAndEndsWhenTerminal()
    {
        var id = await RunAsync("ui-events", "running");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/ui/runs/{id}/events");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        Task<string> NextEventAsync() => reader.NextEventAsync(timeout.Token);

        var first = await NextEventAsync();
        await _client.PutAsJsonAsync($"/api/runs/{id}/steps/b", new { status = "running" });
        var second = await NextEventAsync();
        await _client.PatchJsonAsync($"/api/runs/{id}", new { status = "completed" });
        var events = new List<string>();
        while (events.LastOrDefault()?.StartsWith("event: end", StringComparison.Ordinal) != true) events.Add(await NextEventAsync());

        Assert.Equal("event: run|data: running", first);
        Assert.Equal("event: run|data: running", second);
        Assert.Equal("event: run|data: completed", events[^2]);
        Assert.Equal("event: end|data: completed", events[^1]);
        Assert.Null(await reader.ReadLineAsync(timeout.Token));
    }

    [Fact]
    public async Task Events_UnknownRun_Answers404()
    {
        var response = await _client.GetAsync("/ui/runs/no-such-run/events");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Index_TableAndStats_RefreshOnRunsChanged()
    {
        await RunAsync("ui-index", "completed");

        var doc = await _client.GetDocumentAsync("/ui/runs?layer_name=ui-index");

        Assert.Equal("runsChanged from:body", doc.QuerySelector("#runs-refresh")?.GetAttribute("hx-trigger"));
        Assert.Equal("/ui/runs/list?layer_name=ui-index", doc.QuerySelector("#runs-refresh")?.GetAttribute("hx-get"));
        Assert.Equal("runsChanged from:body", doc.QuerySelector("#run-stats #run-stats-refresh")?.GetAttribute("hx-trigger"));
    }

    [Fact]
    public async Task RetryForm_PlainPostWithItsOwnToken_RedirectsToTheNewRun()
    {
        var id = await RunAsync("plain-form", "failed");
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        var page = await client.GetDocumentAsync($"/runs/{id}");
        var form = page.QuerySelectorAll("form[data-confirm-form]").First(f => f.GetAttribute("action")!.Contains("/retry") && f.QuerySelector("input[name=fromFailedStep]") is null);
        var token = form.QuerySelector("input[name=__RequestVerificationToken]")?.GetAttribute("value");
        Assert.False(string.IsNullOrEmpty(token), "the retry form carries no antiforgery field");

        var response = await client.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token! }));

        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/runs/", response.Headers.Location?.OriginalString);
        Assert.NotEqual($"/runs/{id}", response.Headers.Location?.OriginalString);
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class ControlTestsOnPostgres(PostgresFactory factory) : ControlTests(factory), IClassFixture<PostgresFactory>;
