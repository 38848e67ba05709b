using System.Net;
using System.Text.Json;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Pages;

/// Errors answered outside a page, as their side of the app reads them: problem+json under /api; elsewhere the
/// `<p class="error">` fragment for htmx and scripts, and for a browser's own navigation that fragment in a page with
/// a heading and a way back.
public class ErrorPagesTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private HttpClient Admin => factory.Bearer(KeyedFactory.SuperAdminKey);

    private static HttpRequestMessage Navigation(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Sec-Fetch-Mode", "navigate");
        return request;
    }

    [Theory]
    [InlineData("/ui/nothing")]
    [InlineData("/ui/runs/a/b/c")]
    [InlineData("/runs")]
    public async Task NoRoute_BrowserNavigation_404Page(string path)
    {
        var response = await Admin.SendAsync(Navigation(path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var page = await Html.ParseAsync(response);
        Assert.Equal("404 Not Found", page.QuerySelector("main h1")!.TextContent);
        Assert.Equal("Not found: nothing is at this address", page.QuerySelector("main p.error")!.TextContent);
        Assert.Equal("/ui/runs", page.QuerySelector("main p:last-child a")!.GetAttribute("href"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NoRoute_ScriptOrHtmx_ErrorFragment(bool htmx)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ui/runs/a/b/c");
        if (htmx)
        {
            request.Headers.Add("HX-Request", "true");
            request.Headers.Add("Sec-Fetch-Mode", "navigate"); // htmx's own request is never a page, whatever the browser says
        }

        var response = await Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("<p class=\"error\" role=\"alert\">Not found: nothing is at this address</p>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task UiRoute_MethodItLacks_405()
    {
        var response = await Admin.PutAsync("/ui/bulk/1", null);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Method Not Allowed", (await Html.ParseAsync(response)).QuerySelector("p.error")!.TextContent);
    }

    [Fact]
    public async Task FormPostedWithoutScript_Refused_PageAroundTheError()
    {
        // The saved views' form is a minimal-API endpoint, not a page: its errors take the same way.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ui/views") { Content = new FormUrlEncodedContent([new("name", " "), new("query", "")]) };
        request.Headers.Add("Sec-Fetch-Mode", "navigate");

        var response = await factory.Bearer("alpha", Roles.Operator).SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Equal("400 Bad Request", page.QuerySelector("main h1")!.TextContent);
        Assert.Equal("name", page.QuerySelector("main p.error")!.GetAttribute("data-parameter"));
    }

    [Theory]
    [InlineData("GET", "/api/nothing", 404)]
    [InlineData("PUT", "/api/runs", 405)]
    public async Task ApiPath_ProblemJson(string method, string path, int status)
    {
        var response = await Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
    }

    /// Refusals written before any page runs (a role, a parameter a route does not read, a bad tenant) and the error
    /// fragments pages answer (an unknown parameter of the workers page, a run the modal does not find).
    [Theory]
    [InlineData("/admin", "viewer", 403, null)]
    [InlineData("/ui/runs/x1?zzz=1", "viewer", 400, "zzz")]
    [InlineData("/runs/x1?tenant=alpha", "viewer", 400, "tenant")]
    [InlineData("/ui/workers?zzz=1", "viewer", 400, "zzz")]
    [InlineData("/ui/runs/x1", "viewer", 404, null)]
    public async Task Refusal_BrowserNavigation_PageAroundTheFragment_ScriptTheFragment(string path, string role, int status, string? parameter)
    {
        var client = factory.Bearer("alpha", role);

        var page = await client.SendAsync(Navigation(path));
        var fragment = await client.GetAsync(path);

        Assert.Equal(status, (int)page.StatusCode);
        Assert.Equal(status, (int)fragment.StatusCode);
        var document = await Html.ParseAsync(page);
        Assert.StartsWith(status.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ", document.QuerySelector("main h1")!.TextContent);
        var inPage = document.QuerySelector("main h1 + *")!;
        var alone = (await Html.ParseAsync(fragment)).Body!.FirstElementChild!;
        Assert.Equal(parameter, inPage.GetAttribute("data-parameter"));
        Assert.Equal((alone.LocalName, alone.TextContent, alone.GetAttribute("data-parameter")), (inPage.LocalName, inPage.TextContent, inPage.GetAttribute("data-parameter")));
        Assert.Null(alone.NextElementSibling);
    }
}
