using System.Net;
using System.Net.Http.Json;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// DNS rebinding: with no key, loopback is trusted only when the request is addressed to localhost, 127.0.0.1,
/// [::1] or a host in RunMonitor:TrustedHosts. A page that rebinds its own name to 127.0.0.1 gets nothing.
public sealed class TrustedHostTests : IDisposable
{
    private readonly TrustedHostsFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    /// GET /api/runs from loopback, with the `Host` header exactly as given (empty: none at all).
    private static async Task<(int Status, string ContentType, string Body)> GetWithHostAsync(RunMonitorFactory factory, string host)
    {
        var context = await factory.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = "/api/runs";
            c.Request.Host = host.Length == 0 ? default : new HostString(host);
        });
        return (context.Response.StatusCode, context.Response.ContentType ?? "", await new StreamReader(context.Response.Body).ReadToEndAsync());
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LocalHost")]
    [InlineData("localhost:5080")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:5080")]
    [InlineData("[::1]")]
    [InlineData("[::1]:5080")]
    [InlineData("runmonitor.internal")]
    [InlineData("RunMonitor.Internal:8443")]
    public async Task NoKeys_LoopbackAddressedToATrustedHost_IsSuperAdmin(string host)
    {
        var (status, _, body) = await GetWithHostAsync(_factory, host);

        Assert.True(status == 200, $"Host {host}: {status} {body}");
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:5080")]
    [InlineData("localhost.evil.example")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("localhost.")]
    [InlineData("127.1")]
    [InlineData("2130706433")]
    [InlineData("0x7f000001")]
    [InlineData("127.0.0.2")]
    [InlineData("[::ffff:127.0.0.1]")]
    [InlineData("[0:0:0:0:0:0:0:1]")]
    [InlineData("other.internal")]
    [InlineData("")]
    public async Task NoKeys_LoopbackAddressedToAnyOtherHost_IsRefusedSayingWhyAndWhichSettingAdmitsIt(string host)
    {
        var (status, contentType, body) = await GetWithHostAsync(_factory, host);

        Assert.Equal(403, status);
        Assert.Equal("application/problem+json", contentType.Split(';')[0]);
        Assert.Contains("RunMonitor:TrustedHosts", body);
        Assert.Contains("localhost, 127.0.0.1 or [::1]", body);
        Assert.DoesNotContain("\"items\"", body);
    }

    [Fact]
    public async Task NoKeys_PageAddressedToAnotherHost_IsAShortHtmlRefusal()
    {
        var client = Client("http://evil.example:5080");

        var response = await client.GetAsync("/ui/runs");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await Html.ParseAsync(response)).QuerySelector("p.error")!;
        Assert.Contains("Host 'evil.example' is not one of them", error.TextContent);
        Assert.Contains("RunMonitor:TrustedHosts", error.TextContent);
    }

    /// The attack: the rebound page reads every tenant, fetches a run page for its antiforgery token and
    /// cookie, then cancels the run and creates runs. Each step is refused; the same dance addressed to localhost works.
    [Theory]
    [InlineData("http://evil.example:5080", false)]
    [InlineData("http://localhost:5080", true)]
    public async Task NoKeys_RebindingTokenDance_GetsNothingWhenAddressedToAnotherHost(string origin, bool trusted)
    {
        var local = Client("http://localhost:5080");
        var id = (await local.CreateRunAsync(new { workflowName = "rebind", tenantId = "acme", name = "rebind-secret", status = "running" })).GetProperty("id").GetString()!;
        var page = Client(origin);

        var list = await page.GetAsync("/api/runs");
        var runPage = await page.GetAsync($"/runs/{id}");
        var runHtml = await runPage.Content.ReadAsStringAsync();
        // The rebound page can read no token of its own: it replays one that a localhost page was given.
        var (cookie, token) = await TokenAsync(trusted ? page : local, id);
        var cancel = new HttpRequestMessage(HttpMethod.Post, $"/ui/runs/{id}/cancel") { Content = new FormUrlEncodedContent([]) };
        cancel.Headers.Add("Cookie", cookie);
        cancel.Headers.Add("RequestVerificationToken", token);
        cancel.Headers.Add("HX-Request", "true");
        cancel.Headers.Add("Origin", origin);
        var cancelled = await page.SendAsync(cancel);
        var create = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = JsonContent.Create(new { workflowName = "squat", tenantId = "globex" }) };
        create.Headers.Add("Cookie", cookie);
        create.Headers.Add("RequestVerificationToken", token);
        create.Headers.Add("Origin", origin);
        var created = await page.SendAsync(create);

        var expected = trusted ? new[] { 200, 200, 200, 201 } : [403, 403, 403, 403];
        Assert.Equal(expected, new[] { list, runPage, cancelled, created }.Select(r => (int)r.StatusCode));
        Assert.Equal(trusted, runHtml.Contains("rebind-secret", StringComparison.Ordinal));
        Assert.Equal(trusted, runPage.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal)));
        var run = await local.GetJsonAsync($"/api/runs/{id}");
        Assert.Equal(trusted, run["cancelRequested"]!.GetValue<bool>());
    }

    private static async Task<(string Cookie, string Token)> TokenAsync(HttpClient client, string id)
    {
        var response = await client.GetAsync($"/runs/{id}");
        var doc = await new HtmlParser().ParseDocumentAsync(await response.Content.ReadAsStringAsync());
        var headers = System.Text.Json.JsonDocument.Parse(doc.Body!.GetAttribute("hx-headers")!);
        var cookie = string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        return (cookie, headers.RootElement.GetProperty("RequestVerificationToken").GetString()!);
    }

    private HttpClient Client(string baseAddress) =>
        _factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(baseAddress), AllowAutoRedirect = false, HandleCookies = false });

    [Fact]
    public void TrustedHosts_EntryWithAPort_StopsStartUp()
    {
        using var factory = new TrustedHostsFactory("runmonitor.internal:8080");

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(TrustedHosts.Setting, error.ToString());
    }

    private sealed class TrustedHostsFactory(string trusted = "runmonitor.internal") : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { [TrustedHosts.Setting] = trusted };
    }
}
