using System.Net.Http.Headers;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

public sealed class SecurityHeadersTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    [Theory]
    [InlineData("/ui/runs")]
    [InlineData("/ui/runs/list")]
    [InlineData("/ui/runs/stats")]
    [InlineData("/api/runs")]
    [InlineData("/api/runs/no-such-run")]
    [InlineData("/admin")]
    [InlineData("/login")]
    [InlineData("/runs/no-such-run")]
    [InlineData("/ui/runs/export.csv")]
    public async Task Response_EveryKind_CarriesSecurityHeaders(string url)
    {
        var response = await factory.Bearer(KeyedFactory.SuperAdminKey).GetAsync(url);

        AssertHeaders(response);
    }

    [Fact]
    public async Task Response_Refusals_CarrySecurityHeadersToo()
    {
        AssertHeaders(await factory.Anonymous().GetAsync("/api/runs"));
        AssertHeaders(await factory.Bearer("alpha", Roles.Viewer).GetAsync("/admin"));
    }

    private static void AssertHeaders(HttpResponseMessage response)
    {
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task Pages_HaveNoInlineScriptOrStyle()
    {
        foreach (var url in new[] { "/ui/runs", "/admin", "/login" })
        {
            var doc = await factory.Bearer(KeyedFactory.SuperAdminKey).GetDocumentAsync(url);
            Assert.All(doc.QuerySelectorAll("script"), s => Assert.False(string.IsNullOrEmpty(s.GetAttribute("src")), $"{url} has an inline script"));
            Assert.Empty(doc.QuerySelectorAll("[style]"));
            Assert.DoesNotContain(doc.All, e => e.Attributes.Any(a => a.Name.StartsWith("hx-on", StringComparison.Ordinal) || a.Name.StartsWith("on", StringComparison.Ordinal)));
        }
    }
}
