using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// Behind a TLS proxy: the forwarded headers count only from RunMonitor:ForwardedHeaders:KnownProxies/KnownNetworks;
/// then the client address, scheme and host are the proxy's client's: cookies Secure and HSTS over HTTPS.
public sealed class ForwardedHeadersTests
{
    private const string Proxy = "10.0.0.5";

    private static HttpRequestMessage Get(string url, string from, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add(RunMonitorFactory.RemoteIpHeader, from);
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        return request;
    }

    [Fact]
    public async Task NoProxyConfigured_XForwardedForLoopbackFromOutside_IsStillRefused()
    {
        using var factory = new RunMonitorFactory();
        var client = factory.CreateClient();

        var response = await client.SendAsync(Get("/api/runs", "203.0.113.7", ("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-Host", "localhost")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("only requests from this machine", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoProxyConfigured_XForwardedProtoFromLoopback_ChangesNothing()
    {
        using var factory = new KeyedFactory();
        var client = factory.Anonymous();

        var response = await client.SendAsync(Get("/login", "127.0.0.1", ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "runmonitor.example")));

        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
        Assert.All(response.Headers.GetValues("Set-Cookie"), c => Assert.DoesNotContain("secure", c, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("KnownProxies", Proxy + ",127.0.0.1")]
    [InlineData("KnownNetworks", "10.0.0.0/24,127.0.0.0/8")]
    public async Task LocalProxyTrusted_OutsideClientBehindIt_IsNoLongerLoopback(string setting, string value)
    {
        // A proxy on this machine: without the setting every client behind it would look like loopback.
        using var factory = new ProxiedFactory(new() { [$"RunMonitor:ForwardedHeaders:{setting}"] = value });
        var client = factory.CreateClient();

        var outside = await client.SendAsync(Get("/api/runs", "127.0.0.1", ("X-Forwarded-For", "203.0.113.9")));
        var local = await client.SendAsync(Get("/api/runs", "127.0.0.1"));

        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
    }

    [Fact]
    public async Task ProxyTrusted_ForwardedHeadersFromAnUnlistedAddress_AreIgnored()
    {
        using var factory = new ProxiedFactory(new() { ["RunMonitor:ForwardedHeaders:KnownProxies:0"] = Proxy });
        var client = factory.CreateClient();

        var response = await client.SendAsync(Get("/api/runs", "198.51.100.1", ("X-Forwarded-For", "127.0.0.1")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task ProxyTrusted_HttpsForwarded_CookiesSecureAndHsts()
    {
        using var factory = new ProxiedKeyedFactory();
        var client = factory.Anonymous();
        (string, string)[] https = [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "runmonitor.example")];

        var login = await client.SendAsync(Get("/login", Proxy, https));
        var token = (await Html.ParseAsync(login)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var post = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["key"] = KeyedFactory.KeyFor("alpha", Roles.Viewer), ["returnUrl"] = "/ui/runs", ["__RequestVerificationToken"] = token,
            }),
        };
        post.Headers.Add(RunMonitorFactory.RemoteIpHeader, Proxy);
        foreach (var (name, value) in https) post.Headers.Add(name, value);
        post.Headers.Add("Cookie", string.Join("; ", login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
        var signedIn = await client.SendAsync(post);

        Assert.StartsWith("max-age=", login.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Contains("secure", login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Contains("secure", signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("runmonitor.auth=", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DirectHttps_Hsts_PlainHttp_None()
    {
        using var factory = new KeyedFactory();
        var https = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://runmonitor.example"), AllowAutoRedirect = false });
        var http = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://runmonitor.example"), AllowAutoRedirect = false });

        Assert.True((await https.GetAsync("/login")).Headers.Contains("Strict-Transport-Security"));
        Assert.False((await http.GetAsync("/login")).Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public void KnownNetworks_NotACidr_StopsStartUp()
    {
        using var factory = new ProxiedFactory(new() { ["RunMonitor:ForwardedHeaders:KnownNetworks"] = "10.0.0.0/99" });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("RunMonitor:ForwardedHeaders:KnownNetworks", error.ToString());
    }

    private sealed class ProxiedFactory(Dictionary<string, string?> settings) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => settings;
    }

    private sealed class ProxiedKeyedFactory : KeyedFactory
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["RunMonitor:ForwardedHeaders:KnownProxies"] = Proxy;
                return settings;
            }
        }
    }
}
