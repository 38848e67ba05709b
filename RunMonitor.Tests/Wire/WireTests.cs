using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Wire;

/// What the app sends over the wire: Brotli or gzip for text, never for event streams or compressed artifacts;
/// versioned assets cached for a year; pages kept out of search engines.
public class WireTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient(new() { AllowAutoRedirect = false });

    private async Task<HttpResponseMessage> GetAsync(string url, string? encoding)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (encoding is not null) request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
        return await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static async Task<string> DecodeAsync(HttpResponseMessage response)
    {
        var raw = await response.Content.ReadAsStreamAsync();
        Stream body = response.Content.Headers.ContentEncoding.SingleOrDefault() switch
        {
            "br" => new BrotliStream(raw, CompressionMode.Decompress),
            "gzip" => new GZipStream(raw, CompressionMode.Decompress),
            null => raw,
            var other => throw new InvalidOperationException(other),
        };
        using var reader = new StreamReader(body, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    private async Task<string> VersionedAssetAsync(string suffix)
    {
        var doc = await _client.GetDocumentAsync("/ui/runs");
        var url = doc.QuerySelectorAll("link[rel=stylesheet], script[src]")
            .Select(e => e.GetAttribute("href") ?? e.GetAttribute("src")!)
            .First(u => u.Split('?')[0].EndsWith(suffix, StringComparison.Ordinal));
        Assert.Contains("?v=", url);
        return url;
    }

    [Theory]
    [InlineData("/ui/runs", "br", "text/html")]
    [InlineData("/ui/runs", "gzip", "text/html")]
    [InlineData("/ui/runs/list", "br", "text/html")]
    [InlineData("/api/runs", "br", "application/json")]
    [InlineData("/api/runs", "gzip", "application/json")]
    [InlineData("/ui/runs/export.csv", "br", "text/csv")]
    public async Task Text_AcceptEncoding_IsCompressedAndDecodesToTheSameBody(string url, string encoding, string type)
    {
        await _client.CreateRunAsync(new { workflowName = "wire", name = "Compressed " + new string('x', 40) });

        var compressed = await GetAsync(url, encoding);
        var plain = await GetAsync(url, null);

        Assert.Equal(HttpStatusCode.OK, compressed.StatusCode);
        Assert.StartsWith(type, compressed.Content.Headers.ContentType!.MediaType);
        Assert.Equal([encoding], compressed.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", compressed.Headers.Vary);
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        var (a, b) = (await DecodeAsync(compressed), await DecodeAsync(plain));
        // The page carries a fresh antiforgery token each time: compare everything but it.
        Assert.Equal(Tokenless(b), Tokenless(a));
    }

    // The header's (hx-headers) and the saved views' forms' (a hidden field).
    private static string Tokenless(string html) =>
        System.Text.RegularExpressions.Regex.Replace(html, "RequestVerificationToken[^}]*}|name=\"__RequestVerificationToken\" type=\"hidden\" value=\"[^\"]*\"", "");

    [Theory]
    [InlineData("/lib/htmx-ext-sse/sse.min.js", "br")]
    [InlineData("/lib/runmonitor/runmonitor.js", "gzip")]
    [InlineData("/lib/htmx/htmx.min.js", "br")]
    public async Task VersionedAsset_IsCachedForAYearImmutableAndCompressed(string asset, string encoding)
    {
        var url = await VersionedAssetAsync(asset);

        var response = await GetAsync(url, encoding);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl!.ToString());
        Assert.Equal([encoding], response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task UnversionedAsset_IsCachedForAnHourOnly()
    {
        var response = await GetAsync("/css/site.css", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("public, max-age=3600", response.Headers.CacheControl!.ToString());
    }

    [Fact]
    public async Task EventStream_IsNeverCompressed()
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "wire", status = "running" })).GetProperty("id").GetString();

        using var response = await GetAsync($"/ui/runs/{id}/events", "br");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Theory]
    [InlineData("bundle.zip", "application/zip", false)]
    [InlineData("cover.png", "image/png", false)]
    [InlineData("notes.txt", "text/plain", true)]
    public async Task Artifact_IsCompressedOnlyWhenItIsText(string name, string contentType, bool compressed)
    {
        var id = (await _client.CreateRunAsync(new { workflowName = "wire", steps = new[] { new { stepId = "s" } } })).GetProperty("id").GetString();
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("artifact bytes ", 200)));
        var upload = await _client.PostAsync($"/api/runs/{id}/steps/s/artifacts?name={name}",
            new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue(contentType) } });
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);

        var response = await GetAsync(upload.Headers.Location!.OriginalString, "br");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(compressed ? ["br"] : [], response.Content.Headers.ContentEncoding);
        Assert.Equal(Encoding.UTF8.GetString(bytes), await DecodeAsync(response));
    }

    [Theory]
    [InlineData("/ui/runs")]
    [InlineData("/admin")]
    [InlineData("/login")]
    [InlineData("/runs/no-such-run")]
    public async Task Page_TellsSearchEnginesNotToIndexIt(string url)
    {
        var doc = await Html.ParseAsync(await _client.GetAsync(url));

        Assert.Equal("noindex", doc.QuerySelector("head meta[name=robots]")?.GetAttribute("content"));
    }

    /// The served script bundle is its sources as written, one after another: nothing in the build rewrites them
    /// (MSBuild's line items once turned every backslash, a regex's or a CSS escape's, into a slash).
    [Fact]
    public async Task ScriptBundle_IsItsSourcesAsWritten()
    {
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(repo.FullName, "RunMonitor.sln"))) repo = repo.Parent!;
        var web = Path.Combine(repo.FullName, "RunMonitor.Web");
        var sources = BundleSources.Js.Select(f => File.ReadAllText(Path.Combine(web, "wwwroot", f)).TrimEnd('\r', '\n') + "\n");

        var served = await DecodeAsync(await GetAsync("/lib/runmonitor/runmonitor.js", null));

        Assert.Equal(string.Concat(sources), served);
    }
}
