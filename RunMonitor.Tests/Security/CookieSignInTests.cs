using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

public sealed class CookieSignInTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private static HttpRequestMessage Json(HttpMethod method, string url, object body, string? token = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body) };
        if (token is not null) request.Headers.Add("RequestVerificationToken", token);
        return request;
    }

    /// The login form's POST with the token and antiforgery cookie of one GET (the client keeps no cookies).
    private static async Task<HttpRequestMessage> LoginPostAsync(HttpClient client, string key, string returnUrl)
    {
        var login = await client.GetAsync("/login");
        var token = (await Html.ParseAsync(login)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var request = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key, ["returnUrl"] = returnUrl, ["__RequestVerificationToken"] = token }),
        };
        request.Headers.Add("Cookie", string.Join("; ", login.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
        return request;
    }

    [Fact]
    public async Task Login_Get_RendersFormWithAntiforgeryField()
    {
        var doc = await factory.Anonymous().GetDocumentAsync("/login?returnUrl=%2Fui%2Fruns%3Fstatus%3Dfailed");

        Assert.NotNull(doc.QuerySelector("form[method=post] input[type=password][name=key]"));
        Assert.NotNull(doc.QuerySelector("form input[name=__RequestVerificationToken]"));
        Assert.Equal("/ui/runs?status=failed", doc.QuerySelector("input[name=returnUrl]")!.GetAttribute("value"));
        // Signed out, no page is offered that would only send the visitor back here.
        Assert.Null(doc.QuerySelector("nav[aria-label=Main]"));
    }

    [Fact]
    public async Task Login_ValidKey_SetsHttpOnlyStrictCookieAndRedirects()
    {
        var signedIn = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Viewer));

        Assert.Equal("/ui/runs", signedIn.LoginResponse.Headers.Location!.OriginalString);
        var cookie = signedIn.LoginResponse.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("runmonitor.auth=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var page = await signedIn.Client.GetAsync("/ui/runs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var doc = await Html.ParseAsync(page);
        Assert.Equal("viewer · alpha", doc.QuerySelector("form.signout .signed-in-as").Text());
        Assert.Equal(["/ui/runs", "/ui/workers"], doc.QuerySelectorAll("nav[aria-label=Main] a").Select(a => a.GetAttribute("href")));
    }

    [Fact]
    public async Task Login_ExternalReturnUrl_RedirectsHomeInstead()
    {
        var client = factory.Anonymous();
        var request = await LoginPostAsync(client, KeyedFactory.KeyFor("alpha", Roles.Viewer), "//evil.example/x");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/runs", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Login_WrongKey_Is401WithMessage()
    {
        var client = factory.Anonymous();
        var request = await LoginPostAsync(client, "wrong-key-0000000000", "/ui/runs");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("not valid", (await Html.ParseAsync(response)).QuerySelector("p.error").Text());
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("runmonitor.auth=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Login_PostWithoutAntiforgeryToken_IsRefused()
    {
        var response = await factory.Anonymous().PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = KeyedFactory.KeyFor("alpha", Roles.Viewer),
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("runmonitor.auth=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CookiePost_WithoutToken_RefusedAndWithToken_Accepted()
    {
        var ingest = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Ingest));

        var refused = await ingest.Client.SendAsync(Json(HttpMethod.Post, "/api/runs", new { workflowName = "cookie-post" }));
        var accepted = await ingest.Client.SendAsync(Json(HttpMethod.Post, "/api/runs", new { workflowName = "cookie-post" }, ingest.Token));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Antiforgery", (await refused.JsonAsync()).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        var list = await factory.Bearer("alpha", Roles.Viewer).GetJsonAsync("/api/runs?workflow=cookie-post");
        Assert.Equal(1, list["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task CookiePatch_WithoutToken_Refused()
    {
        var run = await factory.Bearer("alpha", Roles.Ingest).CreateRunAsync(new { workflowName = "cookie-patch", status = "running" });
        var ingest = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Ingest));

        var response = await ingest.Client.SendAsync(Json(HttpMethod.Patch, $"/api/runs/{run.GetProperty("id").GetString()}", new { status = "completed" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task CookieDelete_WithoutToken_RefusedAndWithToken_Accepted()
    {
        var keys = factory.Services.GetRequiredService<ApiKeyStore>();
        var (key, secret) = await keys.CreateAsync("beta", Roles.Viewer);
        var admin = await factory.SignInAsync(KeyedFactory.SuperAdminKey);

        var refused = await admin.Client.DeleteAsync($"/api/admin/keys/{key.Id}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.NotNull(await keys.FindAsync(secret));

        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/admin/keys/{key.Id}");
        request.Headers.Add("RequestVerificationToken", admin.Token);
        var accepted = await admin.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        Assert.Null(await keys.FindAsync(secret));
    }

    [Fact]
    public async Task BearerPost_WithoutToken_IsExempt()
    {
        var response = await factory.Bearer("alpha", Roles.Ingest).PostAsJsonAsync("/api/runs", new { workflowName = "bearer-post" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task BearerPagePost_WithoutToken_IsNotRefusedByRazorPagesOwnCheck()
    {
        var response = await factory.Bearer("alpha", Roles.Viewer).PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = KeyedFactory.KeyFor("alpha", Roles.Viewer),
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task CookieViewer_CreateRun_Is403EvenWithToken()
    {
        var viewer = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Viewer));

        var response = await viewer.Client.SendAsync(Json(HttpMethod.Post, "/api/runs", new { workflowName = "viewer-post" }, viewer.Token));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task CookieViewer_OpensAdmin_403PageOffersToSignInWithAnotherKey()
    {
        var viewer = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Viewer));
        var page = new HttpRequestMessage(HttpMethod.Get, "/admin?days=7");
        page.Headers.Accept.ParseAdd("text/html");
        page.Headers.Add("Sec-Fetch-Mode", "navigate");

        var response = await viewer.Client.SendAsync(page);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var doc = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
        Assert.Equal("Forbidden: your key's role may not do this. Sign in with another key", doc.QuerySelector("p.error")!.TextContent);
        Assert.Equal("/login?returnUrl=%2Fadmin%3Fdays%3D7", doc.QuerySelector("p.error a.sign-in-other")!.GetAttribute("href"));
        Assert.NotNull(doc.QuerySelector("main a[href='/ui/runs']"));
    }

    [Fact]
    public async Task Logout_WithToken_ClearsCookieAndPagesRedirectToLogin()
    {
        var viewer = await factory.SignInAsync(KeyedFactory.KeyFor("beta", Roles.Viewer));

        var refused = await viewer.Client.PostAsync("/logout", new FormUrlEncodedContent([]));
        var logout = await viewer.Client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = viewer.Token }));
        var page = new HttpRequestMessage(HttpMethod.Get, "/ui/runs");
        page.Headers.Accept.ParseAdd("text/html");
        var after = await viewer.Client.SendAsync(page);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal("/login", logout.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/login", after.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Cookie_KeyRevoked_SignsTheBrowserOut()
    {
        var keys = factory.Services.GetRequiredService<ApiKeyStore>();
        var (key, secret) = await keys.CreateAsync("alpha", Roles.Operator);
        var signedIn = await factory.SignInAsync(secret);
        Assert.Equal(HttpStatusCode.OK, (await signedIn.Client.GetAsync("/api/runs")).StatusCode);

        await keys.RevokeAsync(key.Id);

        Assert.Equal(HttpStatusCode.Unauthorized, (await signedIn.Client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task CookieSuperAdmin_SeesAdminLink()
    {
        var admin = await factory.SignInAsync(KeyedFactory.SuperAdminKey);

        var doc = await admin.Client.GetDocumentAsync("/ui/runs");

        Assert.NotNull(doc.QuerySelector("nav a[href='/admin']"));
        Assert.Equal(HttpStatusCode.OK, (await admin.Client.GetAsync("/admin")).StatusCode);
    }
}
