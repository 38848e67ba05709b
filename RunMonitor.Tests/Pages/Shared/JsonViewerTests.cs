using System.Text.Json;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Pages.Shared;

namespace RunMonitor.Tests.Pages.Shared;

/// `_JsonViewer` as the run page renders it: encoded, collapsible without JavaScript, truncated with a way to the whole.
public sealed class JsonViewerTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<AngleSharp.Dom.IElement> PayloadViewerAsync(string id, object payload)
    {
        await _client.CreateRunAsync(new { id, workflowName = "wf", triggerPayload = payload });
        var doc = await _client.GetDocumentAsync($"/runs/{id}");
        return doc.QuerySelectorAll(".payloads .json-viewer")[0];
    }

    [Fact]
    public async Task Viewer_HostileKeysAndValues_AreEncodedText()
    {
        var viewer = await PayloadViewerAsync("jv-hostile", JsonDocument.Parse("""{"<script>":"</pre><img onerror=x>","a":["<b>x</b>",1,true,null]}""").RootElement);

        Assert.Empty(viewer.QuerySelectorAll("script, img, b"));
        Assert.Equal("\"<script>\"", viewer.QuerySelector(".jv-key").Text());
        Assert.Equal("\"</pre><img onerror=x>\"", viewer.QuerySelector(".jv-string").Text());
        Assert.Equal(["\"<b>x</b>\"", "1", "true", "null"], viewer.QuerySelectorAll(".jv-children .jv-children .jv-leaf").Select(l => l.Text().Squash().Split(": ", 2)[1]));
    }

    [Fact]
    public async Task Viewer_Nesting_IsDetailsTreeOpenTwoLevels()
    {
        var viewer = await PayloadViewerAsync("jv-nested", new { a = new { b = new { c = new { d = 1 } } }, empty = new { }, list = Array.Empty<int>() });

        var nodes = viewer.QuerySelectorAll("details.jv-node");
        Assert.Equal(4, nodes.Length);
        Assert.Equal([true, true, false, false], nodes.Select(n => n.HasAttribute("open")));
        Assert.Equal("1 key", nodes[2].QuerySelector("summary .jv-count").Text());
        Assert.Equal(["{}", "[]"], viewer.QuerySelectorAll(".jv-leaf > .jv-brace").Select(b => b.Text()));
    }

    [Fact]
    public async Task Viewer_LongString_TruncatedWithLinkToWholeValue()
    {
        var viewer = await PayloadViewerAsync("jv-long", new { text = new string('x', 1000) });

        var value = viewer.QuerySelector(".jv-string").Text();
        Assert.Equal(JsonViewer.MaxStringLength + 3, value.Length);
        Assert.EndsWith("x…\"", value);
        Assert.Equal("/api/runs/jv-long/payload/triggerPayload", viewer.QuerySelector(".jv-more a")!.GetAttribute("href"));
        Assert.StartsWith("600 more characters", viewer.QuerySelector(".jv-more").Text());
    }

    [Fact]
    public async Task Viewer_LongArray_ShowsFirstItemsAndCount()
    {
        var viewer = await PayloadViewerAsync("jv-array", new { items = Enumerable.Range(0, 250).ToArray() });

        Assert.Equal(JsonViewer.MaxItems, viewer.QuerySelectorAll(".jv-children .jv-children > .jv-leaf").Length);
        Assert.StartsWith("50 more items", viewer.QuerySelector("li.jv-more").Text());
    }

    [Fact]
    public async Task Viewer_PayloadOver256KB_TruncatedWithLinkAndRawEndpointServesWhole()
    {
        var payload = new { blob = new string('y', 300 * 1024) };

        var viewer = await PayloadViewerAsync("jv-huge", payload);
        var raw = await _client.GetAsync("/api/runs/jv-huge/payload/triggerPayload");

        Assert.Empty(viewer.QuerySelectorAll("details"));
        Assert.Equal("/api/runs/jv-huge/payload/triggerPayload", viewer.QuerySelector(".jv-truncated a")!.GetAttribute("href"));
        Assert.True(viewer.QuerySelector("pre.jv-raw").Text().Length <= JsonViewer.PreviewChars + 1);
        Assert.Equal("application/json", raw.Content.Headers.ContentType!.MediaType);
        Assert.Equal(JsonSerializer.Serialize(payload), await raw.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Viewer_NoValue_SaysNone()
    {
        await _client.CreateRunAsync(new { id = "jv-none", workflowName = "wf" });

        var doc = await _client.GetDocumentAsync("/runs/jv-none");

        Assert.Equal(["Nothing recorded", "Nothing recorded"], doc.QuerySelectorAll(".payloads .jv-none").Select(p => p.Text()));
    }

    [Theory]
    [InlineData("/api/runs/jv-fields/payload/secret", 400)]
    [InlineData("/api/runs/jv-missing/payload/context", 404)]
    [InlineData("/api/runs/jv-fields/steps/s1/payload/input", 200)]
    [InlineData("/api/runs/jv-fields/steps/s1/payload/bogus", 400)]
    [InlineData("/api/runs/jv-fields/steps/nope/payload/input", 404)]
    public async Task RawEndpoint_FieldsAndMissing(string url, int status)
    {
        if (await _client.GetAsync("/api/runs/jv-fields") is { StatusCode: System.Net.HttpStatusCode.NotFound })
            await _client.CreateRunAsync(new { id = "jv-fields", workflowName = "wf", steps = new[] { new { stepId = "s1" } } });

        var response = await _client.GetAsync(url);

        Assert.Equal(status, (int)response.StatusCode);
    }
}
