using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Api;

/// Artifacts: upload as a raw body, list, byte-identical download, limits, tenant scope, removal with the run.
public class ArtifactsApiTests(ArtifactsApiTests.SmallLimitFactory factory) : IClassFixture<ArtifactsApiTests.SmallLimitFactory>
{
    public const int Limit = 512 * 1024;

    /// A 512 KiB limit so 413 is cheap to reach.
    public class SmallLimitFactory : RunMonitorFactory
    {
        public SmallLimitFactory() : this(TestStore.Sqlite) { }

        protected SmallLimitFactory(TestStore store) : base(store) { }

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Artifacts:MaxBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private readonly HttpClient _client = factory.CreateClient();

    /// Uploads being received are staged here; none may be left behind.
    private string[] StagedFiles()
    {
        var staging = Path.Combine(factory.Services.GetRequiredService<ArtifactStore>().Root, "tmp");
        return Directory.Exists(staging) ? Directory.GetFiles(staging) : [];
    }

    private async Task RunWithStepAsync(string id, string tenant = "default")
    {
        await _client.CreateRunAsync(new { id, tenantId = tenant, workflowName = "wf", steps = new[] { new { stepId = "bundle" } } });
    }

    private Task<HttpResponseMessage> UploadAsync(string runId, string query, HttpContent content) =>
        _client.PostAsync($"/api/runs/{runId}/steps/bundle/artifacts{query}", content);

    private static ByteArrayContent Bytes(byte[] data, string? type = "application/x-test")
    {
        var content = new ByteArrayContent(data);
        if (type is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return content;
    }

    [Fact]
    public async Task Upload_ThenListAndDownload_RoundTripsByteIdentical()
    {
        await RunWithStepAsync("art-round");
        var data = RandomNumberGenerator.GetBytes(300_000);

        var created = await UploadAsync("art-round", "?name=bundle%20v1.zip", Bytes(data, "application/zip"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var artifact = await created.JsonAsync();
        var id = artifact.GetProperty("id").GetString()!;
        Assert.Equal($"/api/artifacts/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal("bundle v1.zip", artifact.GetProperty("name").GetString());
        Assert.Equal("application/zip", artifact.GetProperty("contentType").GetString());
        Assert.Equal(300_000, artifact.GetProperty("size").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), artifact.GetProperty("sha256").GetString());
        Assert.Equal($"/api/artifacts/{id}", artifact.GetProperty("url").GetString());

        var list = await _client.GetFromJsonAsync<List<Dictionary<string, object>>>("/api/runs/art-round/steps/bundle/artifacts");
        Assert.Equal([id], list!.Select(a => a["id"].ToString()));
        Assert.Equal(["id", "name", "contentType", "size", "sha256", "createdAt", "url"], list![0].Keys);

        var download = await _client.GetAsync($"/api/artifacts/{id}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(data, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/zip", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal("bundle v1.zip", download.Content.Headers.ContentDisposition.FileNameStar);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Upload_StoresBytesContentAddressedBesideDatabase()
    {
        await RunWithStepAsync("art-files");
        var data = "same bytes"u8.ToArray();

        var first = await (await UploadAsync("art-files", "?name=a.txt", Bytes(data, "text/plain"))).JsonAsync();
        await UploadAsync("art-files", "?name=b.txt", Bytes(data, "text/plain"));

        var sha = first.GetProperty("sha256").GetString()!;
        Assert.Equal(data, await factory.StoredBytesAsync(sha));
        Assert.Equal(1, await factory.StoredCopiesAsync(sha));
        Assert.Empty(StagedFiles());
    }

    [Fact]
    public async Task Upload_OverLimitWithLength_Answers413Problem()
    {
        await RunWithStepAsync("art-big");

        var response = await UploadAsync("art-big", "?name=big.bin", Bytes(new byte[Limit + 1]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("524,288", (await response.JsonAsync()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Upload_OverLimitChunked_StopsReadingAndAnswers413()
    {
        await RunWithStepAsync("art-chunked");
        var content = new StreamContent(new MemoryStream(new byte[Limit + 10_000]));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        var response = await UploadAsync("art-chunked", "?name=big.bin", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty((await _client.GetFromJsonAsync<List<object>>("/api/runs/art-chunked/steps/bundle/artifacts"))!);
        Assert.Empty(StagedFiles());
    }

    [Fact]
    public async Task Upload_AtLimit_IsAccepted()
    {
        await RunWithStepAsync("art-edge");

        var response = await UploadAsync("art-edge", "?name=edge.bin", Bytes(new byte[Limit]));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("", "name")]
    [InlineData("?name=", "name")]
    [InlineData("?name=a/b.txt", "name")]
    [InlineData("?name=..", "name")]
    [InlineData("?name=ok.txt&kind=x", "kind")]
    public async Task Upload_BadName_Answers400NamingIt(string query, string field)
    {
        await RunWithStepAsync("art-bad" + Math.Abs(query.GetHashCode()));

        var response = await UploadAsync("art-bad" + Math.Abs(query.GetHashCode()), query, Bytes([1, 2, 3]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Upload_BadContentType_Answers400()
    {
        await RunWithStepAsync("art-type");
        var content = new ByteArrayContent([1]);
        content.Headers.TryAddWithoutValidation("Content-Type", "not a type");

        var response = await UploadAsync("art-type", "?name=x", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("Content-Type", out _));
    }

    [Fact]
    public async Task Upload_NoContentType_StoredAsOctetStream()
    {
        await RunWithStepAsync("art-notype");

        var artifact = await (await UploadAsync("art-notype", "?name=x.bin", Bytes([1, 2], type: null))).JsonAsync();

        Assert.Equal("application/octet-stream", artifact.GetProperty("contentType").GetString());
    }

    [Theory]
    [InlineData("POST", "/api/runs/art-none/steps/bundle/artifacts?name=x", "Run not found")]
    [InlineData("POST", "/api/runs/art-missing-step/steps/nope/artifacts?name=x", "Step not found")]
    [InlineData("GET", "/api/runs/art-none/steps/bundle/artifacts", "Run not found")]
    [InlineData("GET", "/api/runs/art-missing-step/steps/nope/artifacts", "Step not found")]
    [InlineData("GET", "/api/artifacts/does-not-exist", "Artifact not found")]
    public async Task Missing_Answers404Problem(string method, string url, string title)
    {
        if (await _client.GetAsync("/api/runs/art-missing-step") is { StatusCode: HttpStatusCode.NotFound })
            await RunWithStepAsync("art-missing-step");

        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url) { Content = method == "POST" ? Bytes([1]) : null });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(title, (await response.JsonAsync()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task Store_OtherTenantsArtifact_IsNotFound()
    {
        await RunWithStepAsync("art-acme", tenant: "acme");
        var id = (await (await UploadAsync("art-acme", "?name=x", Bytes([7]))).JsonAsync()).GetProperty("id").GetString()!;
        var store = factory.Services.GetRequiredService<ArtifactStore>();

        Assert.Null(await store.GetAsync("globex", id));
        Assert.NotNull(await store.GetAsync("acme", id));
        Assert.NotNull(await store.GetAsync(null, id));
    }

    [Fact]
    public async Task Download_InlineViewOfText_IsSandboxedPlainText()
    {
        await RunWithStepAsync("art-view");
        var id = (await (await UploadAsync("art-view", "?name=page.html", Bytes("<script>x</script>"u8.ToArray(), "text/plain"))).JsonAsync()).GetProperty("id").GetString()!;

        var response = await _client.GetAsync($"/api/artifacts/{id}?disposition=inline");

        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("inline", response.Content.Headers.ContentDisposition!.DispositionType);
        Assert.StartsWith("sandbox", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.GetAsync($"/api/artifacts/{id}?disposition=open")).StatusCode);
    }

    [Theory]
    [InlineData("application/javascript")]
    [InlineData("text/javascript; charset=utf-8")]
    [InlineData("text/html")]
    [InlineData("image/svg+xml")]
    [InlineData("text/css")]
    public async Task Download_ScriptOrMarkupType_ServedAsOctetStreamInASandbox(string type)
    {
        var run = "art-js" + Math.Abs(type.GetHashCode());
        await RunWithStepAsync(run);
        var created = await (await UploadAsync(run, "?name=x.js", Bytes("alert(document.cookie)"u8.ToArray(), type))).JsonAsync();
        var id = created.GetProperty("id").GetString()!;

        var download = await _client.GetAsync($"/api/artifacts/{id}");
        var inline = await _client.GetAsync($"/api/artifacts/{id}?disposition=inline");

        Assert.Equal(type, created.GetProperty("contentType").GetString());
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.StartsWith("sandbox", download.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("application/octet-stream", inline.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("sandbox", inline.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("application/pdf", "application/pdf")]
    [InlineData("image/png", "image/png")]
    [InlineData("text/csv; charset=utf-8", "text/csv; charset=utf-8")]
    [InlineData("text/plain; charset=utf-7", "text/plain")]
    public async Task Download_SafeType_ServedAsStoredInASandbox(string type, string served)
    {
        var run = "art-safe" + Math.Abs(type.GetHashCode());
        await RunWithStepAsync(run);
        var id = (await (await UploadAsync(run, "?name=x", Bytes([1, 2, 3], type))).JsonAsync()).GetProperty("id").GetString()!;

        var download = await _client.GetAsync($"/api/artifacts/{id}");

        Assert.Equal(served, download.Content.Headers.ContentType!.ToString());
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition!.DispositionType);
        Assert.StartsWith("sandbox", download.Headers.GetValues("Content-Security-Policy").Single());
    }

    private async Task<(string Id, byte[] Data, string Sha)> UploadRandomAsync(string runId, int size)
    {
        await RunWithStepAsync(runId);
        var data = RandomNumberGenerator.GetBytes(size);
        var created = await (await UploadAsync(runId, "?name=big.bin", Bytes(data, "application/zip"))).JsonAsync();
        return (created.GetProperty("id").GetString()!, data, created.GetProperty("sha256").GetString()!);
    }

    [Fact]
    public async Task Download_CarriesSha256AsStrongETagAndLastModified_MatchingIfNoneMatchIs304()
    {
        var (id, _, sha) = await UploadRandomAsync("art-etag", 10_000);

        var first = await _client.GetAsync($"/api/artifacts/{id}");
        var again = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{id}");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\""));
        var revalidated = await _client.SendAsync(again);
        var other = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{id}");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"not-it\""));
        var changed = await _client.SendAsync(other);

        Assert.Equal(new EntityTagHeaderValue($"\"{sha}\""), first.Headers.ETag);
        Assert.NotNull(first.Content.Headers.LastModified);
        Assert.Equal("bytes", first.Headers.AcceptRanges.Single());
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(10_000, (await changed.Content.ReadAsByteArrayAsync()).Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?disposition=inline")]
    public async Task Download_Range_Answers206WithThoseBytes(string query)
    {
        var (id, data, _) = await UploadRandomAsync("art-range" + query.Length, 300_000);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{id}{query}");
        request.Headers.Range = new RangeHeaderValue(200_000, null);
        var rest = await _client.SendAsync(request);
        var middle = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{id}{query}");
        middle.Headers.Range = new RangeHeaderValue(10, 19);
        var ten = await _client.SendAsync(middle);

        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal(data[200_000..], await rest.Content.ReadAsByteArrayAsync());
        Assert.Equal(new ContentRangeHeaderValue(200_000, 299_999, 300_000), rest.Content.Headers.ContentRange);
        Assert.Equal(HttpStatusCode.PartialContent, ten.StatusCode);
        Assert.Equal(data[10..20], await ten.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Download_UnsatisfiableRange_Answers416()
    {
        var (id, _, _) = await UploadRandomAsync("art-416", 1_000);
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{id}");
        request.Headers.Range = new RangeHeaderValue(5_000, null);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */1000", response.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task Download_IfRangeWithItsETag_Answers206_OtherETag_AnswersWhole()
    {
        var (id, data, sha) = await UploadRandomAsync("art-ifrange", 5_000);

        HttpRequestMessage Resume(string tag)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/api/artifacts/{id}");
            request.Headers.Range = new RangeHeaderValue(4_000, null);
            request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue($"\"{tag}\""));
            return request;
        }
        var same = await _client.SendAsync(Resume(sha));
        var other = await _client.SendAsync(Resume("older"));

        Assert.Equal(HttpStatusCode.PartialContent, same.StatusCode);
        Assert.Equal(data[4_000..], await same.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(data, await other.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task DeleteRun_RemovesRowsAndUnsharedFilesOnly()
    {
        await RunWithStepAsync("art-del-a");
        await RunWithStepAsync("art-del-b");
        var shared = "shared"u8.ToArray();
        var own = "only in a"u8.ToArray();
        await UploadAsync("art-del-a", "?name=s", Bytes(shared));
        var ownId = (await (await UploadAsync("art-del-a", "?name=o", Bytes(own))).JsonAsync()).GetProperty("id").GetString()!;
        await UploadAsync("art-del-b", "?name=s", Bytes(shared));
        var store = factory.Services.GetRequiredService<ArtifactStore>();

        Assert.False(await store.DeleteRunAsync("globex", "art-del-a"));
        Assert.True(await store.DeleteRunAsync(null, "art-del-a"));

        Assert.Equal(0, await factory.StoredCopiesAsync(Convert.ToHexStringLower(SHA256.HashData(own))));
        Assert.Equal(1, await factory.StoredCopiesAsync(Convert.ToHexStringLower(SHA256.HashData(shared))));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/artifacts/{ownId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/art-del-a")).StatusCode);
        Assert.Single((await _client.GetFromJsonAsync<List<object>>("/api/runs/art-del-b/steps/bundle/artifacts"))!);
    }

    [Fact]
    public async Task StepPanel_ListsArtifactsWithViewAndDownloadLinks()
    {
        await RunWithStepAsync("art-panel");
        var text = (await (await UploadAsync("art-panel", "?name=log.txt", Bytes("hi"u8.ToArray(), "text/plain"))).JsonAsync()).GetProperty("id").GetString();
        var zip = (await (await UploadAsync("art-panel", "?name=b.zip", Bytes([1], "application/zip"))).JsonAsync()).GetProperty("id").GetString();

        var doc = await _client.GetDocumentAsync("/ui/runs/art-panel/steps/bundle");

        var items = doc.QuerySelectorAll(".artifact-list li.artifact");
        Assert.Equal([text, zip], items.Select(i => i.GetAttribute("data-artifact-id")));
        Assert.Equal($"/api/artifacts/{text}?disposition=inline", items[0].QuerySelector("a.artifact-view")!.GetAttribute("href"));
        Assert.Equal($"/api/artifacts/{zip}", items[1].QuerySelector("a.artifact-download")!.GetAttribute("href"));
        Assert.Null(items[1].QuerySelector("a.artifact-view"));
    }
}

/// The same tests with the app on PostgreSQL, where the bytes live in `artifact_blobs`.
public sealed class ArtifactsApiTestsOnPostgres(ArtifactsApiTestsOnPostgres.PostgresSmallLimitFactory factory)
    : ArtifactsApiTests(factory), IClassFixture<ArtifactsApiTestsOnPostgres.PostgresSmallLimitFactory>
{
    public sealed class PostgresSmallLimitFactory() : SmallLimitFactory(TestStore.Postgres);
}
