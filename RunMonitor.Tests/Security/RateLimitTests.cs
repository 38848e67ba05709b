using System.Net;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// ASP.NET Core's rate limiter per client address: sign-in attempts, and keys that fail to check out.
public sealed class RateLimitTests
{
    private static HttpRequestMessage WithKey(string key, string from)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        request.Headers.Authorization = new("Bearer", key);
        request.Headers.Add(RunMonitorFactory.RemoteIpHeader, from);
        return request;
    }

    [Fact]
    public async Task FailedKeyChecks_PastTheLimit_429WithRetryAfterForThatAddressOnly()
    {
        using var factory = new LimitedFactory(failedKeys: 3, signIns: 100);
        var client = factory.Anonymous();
        var viewer = KeyedFactory.KeyFor("alpha", Roles.Viewer);

        var failures = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++) failures.Add((await client.SendAsync(WithKey($"guess-{i}-0123456789abcdef", "203.0.113.7"))).StatusCode);
        var fourth = await client.SendAsync(WithKey("guess-4-0123456789abcdef", "203.0.113.7"));
        var rightKeySameAddress = await client.SendAsync(WithKey(viewer, "203.0.113.7"));
        var rightKeyOtherAddress = await client.SendAsync(WithKey(viewer, "203.0.113.8"));

        Assert.All(failures, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        Assert.Equal("application/problem+json", fourth.Content.Headers.ContentType!.MediaType);
        Assert.InRange(int.Parse(fourth.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Contains("try again in", await fourth.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, rightKeySameAddress.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rightKeyOtherAddress.StatusCode);
    }

    [Fact]
    public async Task FailedKeyChecks_ValidKeys_AreNeverCounted()
    {
        using var factory = new LimitedFactory(failedKeys: 2, signIns: 100);
        var client = factory.Anonymous();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++) statuses.Add((await client.SendAsync(WithKey(KeyedFactory.KeyFor("alpha", Roles.Viewer), "203.0.113.7"))).StatusCode);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task SignIn_PastTheLimit_429WithRetryAfter()
    {
        using var factory = new LimitedFactory(failedKeys: 100, signIns: 2);
        var client = factory.WithoutCookies();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage last = null!;
        for (var i = 0; i < 3; i++)
        {
            last = await client.SendAsync(await LoginPostAsync(client, "wrong-key-0123456789abcdef", "203.0.113.7"));
            statuses.Add(last.StatusCode);
        }
        var otherAddress = await client.SendAsync(await LoginPostAsync(client, KeyedFactory.KeyFor("alpha", Roles.Viewer), "203.0.113.8"));

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        Assert.True(last.Headers.Contains("Retry-After"));
        Assert.Contains("too many sign-in attempts", (await Html.ParseAsync(last)).QuerySelector("p.error")!.TextContent);
        Assert.Equal(HttpStatusCode.Redirect, otherAddress.StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongKeys_CountAsFailedKeyChecks()
    {
        using var factory = new LimitedFactory(failedKeys: 2, signIns: 100);
        var client = factory.WithoutCookies();

        for (var i = 0; i < 2; i++) await client.SendAsync(await LoginPostAsync(client, $"wrong-{i}-0123456789abcdef", "203.0.113.7"));
        var bearer = await client.SendAsync(WithKey(KeyedFactory.KeyFor("alpha", Roles.Viewer), "203.0.113.7"));
        var signIn = await client.SendAsync(await LoginPostAsync(client, KeyedFactory.KeyFor("alpha", Roles.Viewer), "203.0.113.7"));

        Assert.Equal(HttpStatusCode.TooManyRequests, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, signIn.StatusCode);
        Assert.True(signIn.Headers.Contains("Retry-After"));
    }

    private static async Task<HttpRequestMessage> LoginPostAsync(HttpClient client, string key, string from)
    {
        var get = new HttpRequestMessage(HttpMethod.Get, "/login");
        get.Headers.Add(RunMonitorFactory.RemoteIpHeader, from);
        var login = await client.SendAsync(get);
        var token = (await Html.ParseAsync(login)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var request = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key, ["returnUrl"] = "/ui/runs", ["__RequestVerificationToken"] = token }),
        };
        request.Headers.Add(RunMonitorFactory.RemoteIpHeader, from);
        request.Headers.Add("Cookie", string.Join("; ", login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
        return request;
    }

    private sealed class LimitedFactory(int failedKeys, int signIns) : KeyedFactory
    {
        /// Each login form's cookie is sent by hand with its POST.
        public HttpClient WithoutCookies() =>
            CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings[FailedKeyChecks.Setting] = failedKeys.ToString(System.Globalization.CultureInfo.InvariantCulture);
                settings[RateLimits.SignInSetting] = signIns.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return settings;
            }
        }
    }
}
