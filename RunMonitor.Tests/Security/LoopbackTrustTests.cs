using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// With no key at all: this machine is the super admin, everything else is refused; the first key ends that.
public sealed class LoopbackTrustTests : IDisposable
{
    private readonly RunMonitorFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task NoKeys_Loopback_IsSuperAdmin()
    {
        var client = _factory.CreateClient();

        var created = await client.PostAsJsonAsync("/api/runs", new { workflowName = "loopback", tenantId = "acme" });
        var admin = await client.GetAsync("/admin");
        var stats = await client.GetAsync("/api/admin/runs/stats");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
    }

    [Fact]
    public async Task NoKeys_RemoteCaller_IsRefused()
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Add(RunMonitorFactory.RemoteIpHeader, "203.0.113.7");

        var response = await client.GetAsync("/ui/runs/list");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("only requests from this machine", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoKeys_LoopbackWriteFromABrowserWithoutToken_IsRefused()
    {
        var client = _factory.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = JsonContent.Create(new { workflowName = "csrf" }) };
        request.Headers.Add("Origin", "http://evil.example");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task FirstStoredKey_EndsLoopbackTrust()
    {
        var client = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);

        var (key, secret) = await _factory.Services.GetRequiredService<ApiKeyStore>().CreateAsync("acme", Roles.Viewer);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
        var withKey = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        withKey.Headers.Authorization = new("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(withKey)).StatusCode);

        await _factory.Services.GetRequiredService<ApiKeyStore>().RevokeAsync(key.Id);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task KeyMadeByTheKeysCommand_EndsLoopbackTrustWithinASecond()
    {
        var client = _factory.CreateClient();
        // The app now knows there is no key, and keeps that answer for up to a second.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);

        // Another process's store on the same file: the app hears nothing of it.
        using var elsewhere = Database.FromSetting(_factory.DatabaseSetting, AppContext.BaseDirectory);
        var made = await KeysCommand.RunAsync(["create", "--role", "admin"], elsewhere,
            new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), TextWriter.Null, TextWriter.Null);
        await Task.Delay(TimeSpan.FromMilliseconds(1100));

        Assert.Equal(0, made);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public void ConfiguredKey_WithoutTenantForViewer_StopsStartUp()
    {
        using var factory = new SettingsFactory(new()
        {
            ["RunMonitor:ApiKeys:0:Key"] = "viewer-without-tenant-0123456789", ["RunMonitor:ApiKeys:0:Role"] = "viewer",
        });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("RunMonitor:ApiKeys:0", error.ToString());
    }

    private sealed class SettingsFactory(Dictionary<string, string?> settings) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => settings;
    }
}
