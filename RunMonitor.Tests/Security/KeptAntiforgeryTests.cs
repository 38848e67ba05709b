using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// One request token per antiforgery cookie and user (KeptAntiforgery): the same token on every page of one browser,
/// never another user's, and made anew after a refusal or ten minutes.
public class KeptAntiforgeryTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private const string AntiforgeryCookie = ".AspNetCore.Antiforgery.";

    private static async Task<HttpResponseMessage> CreateRunAsync(HttpClient client, string? token, string workflow)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = JsonContent.Create(new { workflowName = workflow }) };
        if (token is not null) request.Headers.Add("RequestVerificationToken", token);
        return await client.SendAsync(request);
    }

    private static bool SetsAntiforgeryCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith(AntiforgeryCookie, StringComparison.Ordinal));

    [Fact]
    public async Task Pages_OneBrowser_CarryOneTokenThatIsAccepted()
    {
        var ingest = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Ingest));

        var again = await ingest.Client.GetAsync("/ui/runs");
        var third = await KeyedFactory.PageTokenAsync(ingest.Client);
        var created = await CreateRunAsync(ingest.Client, third, "kept-token");

        Assert.Equal(ingest.Token, KeyedFactory.BodyToken(await Html.ParseAsync(again)));
        Assert.False(SetsAntiforgeryCookie(again));
        // A page holding a token is never cached, kept token or not.
        Assert.True(again.Headers.CacheControl is { NoCache: true, NoStore: true });
        Assert.Equal("no-cache", again.Headers.Pragma.ToString());
        Assert.Equal(ingest.Token, third);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task Token_OfOneUser_IsNeverHandedToTheNextOnTheSameCookie()
    {
        var client = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Ingest));
        var logout = await client.Client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = client.Token }));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        // The same browser (its antiforgery cookie kept) signs in as someone else.
        var next = await factory.SignInAsync(KeyedFactory.KeyFor("beta", Roles.Ingest), client.Client);

        Assert.NotEqual(client.Token, next.Token);
        Assert.Equal(HttpStatusCode.BadRequest, (await CreateRunAsync(next.Client, client.Token, "first-users-token")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateRunAsync(next.Client, next.Token, "own-token")).StatusCode);
    }

    [Fact]
    public async Task Token_AfterARefusal_IsMadeAnew()
    {
        var ingest = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Ingest));

        var refused = await CreateRunAsync(ingest.Client, "not-a-token", "refused");
        var after = await KeyedFactory.PageTokenAsync(ingest.Client);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.NotEqual(ingest.Token, after);
        Assert.Equal(HttpStatusCode.Created, (await CreateRunAsync(ingest.Client, after, "after-refusal")).StatusCode);
    }

    [Fact]
    public async Task Token_AfterTenMinutes_IsMadeAnew()
    {
        var ingest = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Ingest));
        var within = await KeyedFactory.PageTokenAsync(ingest.Client);

        factory.Clock.Advance(KeptAntiforgery.KeptFor + TimeSpan.FromSeconds(1));
        var after = await KeyedFactory.PageTokenAsync(ingest.Client);

        Assert.Equal(ingest.Token, within);
        Assert.NotEqual(ingest.Token, after);
        Assert.Equal(HttpStatusCode.Created, (await CreateRunAsync(ingest.Client, after, "after-ten-minutes")).StatusCode);
    }

    [Fact]
    public async Task Client_WithoutCookies_GetsANewCookieAndTokenEachTime()
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

        var first = await client.GetAsync("/login");
        var second = await client.GetAsync("/login");

        Assert.True(SetsAntiforgeryCookie(first));
        Assert.True(SetsAntiforgeryCookie(second));
        Assert.NotEqual(LoginToken(await Html.ParseAsync(first)), LoginToken(await Html.ParseAsync(second)));
    }

    [Fact]
    public void Key_PartsOfDifferentLengths_NeverSpellTheSameKey()
    {
        static System.Security.Claims.ClaimsPrincipal User(params (string Type, string Value)[] claims) =>
            new(new System.Security.Claims.ClaimsIdentity(claims.Select(c => new System.Security.Claims.Claim(c.Type, c.Value)), "test"));

        Assert.NotEqual(KeptAntiforgery.Key("c", User(("a", "b:c"))), KeptAntiforgery.Key("c", User(("a:b", "c"))));
        Assert.NotEqual(KeptAntiforgery.Key("c1", User(("a", "b"))), KeptAntiforgery.Key("c", User(("1a", "b"))));
        Assert.Equal(KeptAntiforgery.Key("c", User(("a", "b"))), KeptAntiforgery.Key("c", User(("a", "b"))));
    }

    private static string LoginToken(AngleSharp.Dom.IDocument doc) => doc.QuerySelector("form input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
}

public sealed class KeptAntiforgeryTestsOnPostgres(PostgresKeyedFactory factory) : KeptAntiforgeryTests(factory), IClassFixture<PostgresKeyedFactory>;
