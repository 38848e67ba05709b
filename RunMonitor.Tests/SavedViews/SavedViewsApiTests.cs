using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.SavedViews;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.SavedViews;

/// `/api/views` and the runs page's save/delete forms (SPEC "Views and preferences"): roles, tenants, the list's own
/// 400 for a bad query, the limits. Each test uses names of its own; the limit test has a tenant of its own key set.
public class SavedViewsApiTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.JsonAsync();
    }

    private static Task<HttpResponseMessage> SaveAsync(HttpClient client, string name, string query) =>
        client.PostAsJsonAsync("/api/views", new { name, query });

    private static async Task<JsonElement> SavedAsync(HttpClient client, string name, string query)
    {
        var response = await SaveAsync(client, name, query);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private static async Task<List<string>> NamesAsync(HttpClient client) =>
        (await client.GetJsonAsync("/api/views")).AsArray().Select(v => (string)v!["name"]!).ToList();

    [Fact]
    public async Task Post_Operator_201WithTheViewAndItsUrl()
    {
        var client = factory.Bearer("alpha", Roles.Operator);

        var response = await SaveAsync(client, "Failed nightly", "?status=failed&layer_name=nightly&limit=50&sort=-duration");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var view = await response.JsonAsync();
        var id = view.GetProperty("id").GetInt64();
        Assert.Equal($"/api/views/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("Failed nightly", view.GetProperty("name").GetString());
        // The list's own spelling of the query, as the list's links write it; the page size kept.
        Assert.Equal("layer_name=nightly&status=failed&sort=-duration&limit=50", view.GetProperty("query").GetString());
        Assert.Equal("/ui/runs?layer_name=nightly&status=failed&sort=-duration&limit=50", view.GetProperty("url").GetString());
        // The key's id, never the key itself.
        Assert.StartsWith("config-", view.GetProperty("createdBy").GetString());
        Assert.DoesNotContain(KeyedFactory.KeyFor("alpha", Roles.Operator), view.ToString());
        Assert.Equal(factory.Clock.GetUtcNow(), view.GetProperty("createdAt").GetDateTimeOffset());
    }

    [Theory]
    [InlineData(Roles.Viewer, HttpStatusCode.Forbidden)]
    [InlineData(Roles.Ingest, HttpStatusCode.Forbidden)]
    [InlineData(Roles.Operator, HttpStatusCode.Created)]
    [InlineData(Roles.Admin, HttpStatusCode.Created)]
    public async Task Post_ByRole_OnlyOperatorAndAdminSave(string role, HttpStatusCode expected)
    {
        var response = await SaveAsync(factory.Bearer("alpha", role), $"role view {role}", "status=failed");

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.Created, (await NamesAsync(factory.Bearer("alpha", Roles.Viewer))).Contains($"role view {role}"));
    }

    [Fact]
    public async Task Get_EveryRoleOfTheTenant_ReadsItsViewsByName_AnotherTenantSeesNone()
    {
        var operatorClient = factory.Bearer("alpha", Roles.Operator);
        await SavedAsync(operatorClient, "zz shared b", "status=running");
        await SavedAsync(operatorClient, "zz shared a", "status=queued");

        foreach (var role in KeyedFactory.RoleNames)
        {
            var names = await NamesAsync(factory.Bearer("alpha", role));
            var mine = names.Where(n => n.StartsWith("zz shared", StringComparison.Ordinal)).ToList();
            Assert.Equal(["zz shared a", "zz shared b"], mine);
            Assert.Equal(names.Order(StringComparer.Ordinal), names);
        }
        Assert.DoesNotContain(await NamesAsync(factory.Bearer("beta", Roles.Operator)), n => n.StartsWith("zz shared", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Delete_Operator_204AndGone_ViewerForbidden_OtherTenant404()
    {
        var view = await SavedAsync(factory.Bearer("alpha", Roles.Operator), "to delete", "status=partial");
        var url = $"/api/views/{view.GetProperty("id").GetInt64()}";

        var byViewer = await factory.Bearer("alpha", Roles.Viewer).DeleteAsync(url);
        var byOtherTenant = await factory.Bearer("beta", Roles.Admin).DeleteAsync(url);
        var byOperator = await factory.Bearer("alpha", Roles.Operator).DeleteAsync(url);
        var again = await factory.Bearer("alpha", Roles.Operator).DeleteAsync(url);

        await Problem(byViewer, HttpStatusCode.Forbidden);
        await Problem(byOtherTenant, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, byOperator.StatusCode);
        await Problem(again, HttpStatusCode.NotFound);
        await Problem(await factory.Bearer("alpha", Roles.Operator).DeleteAsync("/api/views/not-a-number"), HttpStatusCode.NotFound);
        Assert.DoesNotContain("to delete", await NamesAsync(factory.Bearer("alpha", Roles.Viewer)));
    }

    [Theory]
    [InlineData("status=bogus")]
    [InlineData("colour=red")]
    [InlineData("limit=500")]
    [InlineData("from=yesterday")]
    [InlineData("tenant=beta")]
    [InlineData("sort=name")]
    public async Task Post_QueryTheListRefuses_400WithTheListsOwnText(string query)
    {
        var client = factory.Bearer("alpha", Roles.Operator);
        var list = await Problem(await client.GetAsync("/api/runs?" + query), HttpStatusCode.BadRequest);

        var saved = await Problem(await SaveAsync(client, "bad " + query, query), HttpStatusCode.BadRequest);

        Assert.Equal(list.GetProperty("detail").GetString(), saved.GetProperty("detail").GetString());
        Assert.Equal(list.GetProperty("errors").ToString(), saved.GetProperty("errors").ToString());
        Assert.DoesNotContain("bad " + query, await NamesAsync(client));
    }

    [Theory]
    [InlineData("offset=20&limit=50", "offset")]
    [InlineData("status=failed&after=LWNyZWF0ZWR8", "after")]
    public async Task Post_QueryNamingAPage_400NamingQuery_NothingSaved(string query, string paging)
    {
        // Arrange: the offset was dropped without a word (201), so the view opened on another page than the one asked for.
        var client = factory.Bearer("alpha", Roles.Operator);

        // Act
        var problem = await Problem(await SaveAsync(client, "paged " + paging, query), HttpStatusCode.BadRequest);

        // Assert
        var message = problem.GetProperty("errors").GetProperty("query")[0].GetString()!;
        Assert.Contains("leave out " + paging, message);
        Assert.DoesNotContain("paged " + paging, await NamesAsync(client));
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("   ", "must not be empty")]
    [InlineData("101", "must be at most 100 characters")]
    public async Task Post_NameEmptyOrOver100_400NamingName(string name, string message)
    {
        var problem = await Problem(await SaveAsync(factory.Bearer("alpha", Roles.Operator), name == "101" ? new string('n', 101) : name, "status=failed"),
            HttpStatusCode.BadRequest);

        Assert.Equal(message, problem.GetProperty("errors").GetProperty("name")[0].GetString());
    }

    [Fact]
    public async Task Post_Name100Characters_Saved_SameNameAgain409()
    {
        var client = factory.Bearer("alpha", Roles.Operator);
        var name = new string('v', SavedViewRules.MaxNameLength);

        await SavedAsync(client, name, "status=failed");
        var again = await Problem(await SaveAsync(client, name, "status=running"), HttpStatusCode.Conflict);

        Assert.Contains("exists", again.GetProperty("detail").GetString());
        Assert.Contains("\"replace\": true", again.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Created, (await SaveAsync(factory.Bearer("beta", Roles.Operator), name, "status=running")).StatusCode);
    }

    /// `replace: true` saves the view of that name again: the same id (its links stay), the new query, who saved it and
    /// when; a name not taken is simply created.
    [Fact]
    public async Task Post_ReplaceTrue_NameTaken_200TheSameViewWithTheNewQuery_NameFree_201()
    {
        var client = factory.Bearer("alpha", Roles.Operator);
        var first = await SavedAsync(client, "replace me", "status=failed");
        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        var replaced = await client.PostAsJsonAsync("/api/views", new { name = "replace me", query = "status=running&q=again", replace = true });
        var fresh = await client.PostAsJsonAsync("/api/views", new { name = "replace me not there", query = "status=queued", replace = true });

        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var view = await replaced.JsonAsync();
        Assert.Equal(first.GetProperty("id").GetInt64(), view.GetProperty("id").GetInt64());
        Assert.Equal("status=running&q=again", view.GetProperty("query").GetString());
        Assert.Equal(factory.Clock.GetUtcNow(), view.GetProperty("createdAt").GetDateTimeOffset());
        var stored = (await client.GetJsonAsync("/api/views")).AsArray().Where(v => (string)v!["name"]! == "replace me").ToList();
        Assert.Equal("status=running&q=again", (string)Assert.Single(stored)!["query"]!);
        Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
    }

    [Fact]
    public async Task Post_ReplaceNotABoolean_400NamingIt()
    {
        var response = await factory.Bearer("alpha", Roles.Operator).PostAsJsonAsync("/api/views", new { name = "replace bad", query = "", replace = "yes" });

        var problem = await Problem(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("replace", out _));
        Assert.DoesNotContain("replace bad", await NamesAsync(factory.Bearer("alpha", Roles.Viewer)));
    }

    [Fact]
    public async Task Post_UnknownFieldOrNotJson_400()
    {
        var client = factory.Bearer("alpha", Roles.Operator);

        var unknown = await Problem(await client.PostAsJsonAsync("/api/views", new { name = "x", query = "", colour = "red" }), HttpStatusCode.BadRequest);
        var notJson = await Problem(await client.PostAsync("/api/views", new StringContent("{name", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);

        Assert.True(unknown.GetProperty("errors").TryGetProperty("colour", out _));
        Assert.True(notJson.GetProperty("errors").TryGetProperty("body", out _));
    }

    [Fact]
    public async Task Post_WithoutAQuery_400NamingQueryAndNothingSaved()
    {
        var client = factory.Bearer("alpha", Roles.Operator);

        var missing = await Problem(await client.PostAsJsonAsync("/api/views", new { name = "no query" }), HttpStatusCode.BadRequest);
        var nullQuery = await Problem(await client.PostAsync("/api/views",
            new StringContent("""{"name":"no query","query":null}""", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);

        Assert.Contains("\"\" for the whole list", missing.GetProperty("errors").GetProperty("query")[0].GetString());
        Assert.True(nullQuery.GetProperty("errors").TryGetProperty("query", out _));
        Assert.DoesNotContain("no query", await NamesAsync(client));
        // The whole list is a view too, given as such.
        Assert.Equal(HttpStatusCode.Created, (await SaveAsync(client, "whole list", "")).StatusCode);
    }

    [Fact]
    public async Task Post_MoreThan200ViewsInATenant_409AndDeletingOneMakesRoom()
    {
        // The super admin's views ('*') are a set of their own: this test fills it, no other test writes there.
        var admin = factory.Bearer(KeyedFactory.SuperAdminKey);
        for (var i = 0; i < SavedViewRules.MaxPerTenant; i++)
            Assert.Equal(HttpStatusCode.Created, (await SaveAsync(admin, $"view {i:000}", $"q=n{i}")).StatusCode);

        var over = await Problem(await SaveAsync(admin, "one too many", "q=x"), HttpStatusCode.Conflict);
        var first = (await admin.GetJsonAsync("/api/views")).AsArray()[0]!;
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/views/{(long)first["id"]!}")).StatusCode);
        var afterDelete = await SaveAsync(admin, "one too many", "q=x");

        Assert.Contains("200 saved views", over.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Created, afterDelete.StatusCode);
        Assert.Equal(SavedViewRules.MaxPerTenant, (await admin.GetJsonAsync("/api/views")).AsArray().Count);
        Assert.DoesNotContain(await NamesAsync(factory.Bearer("alpha", Roles.Viewer)), n => n.StartsWith("view 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunsPage_CookieOperator_SavesWithTheFormThenFollowsAndDeletesIt()
    {
        var (client, token, _) = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Operator));
        var page = await client.GetDocumentAsync("/ui/runs?status=failed&q=form-view");
        var form = page.QuerySelector(".saved-views form.save-view-form")!;
        Assert.Equal("status=failed&q=form-view", form.QuerySelector("input[name=query]")!.GetAttribute("value"));

        var saved = await client.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["name"] = "Form view", ["query"] = "status=failed&q=form-view",
            ["__RequestVerificationToken"] = form.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!,
        }));

        Assert.Equal(HttpStatusCode.SeeOther, saved.StatusCode);
        Assert.Equal("/ui/runs?status=failed&q=form-view", saved.Headers.Location?.OriginalString);
        var shown = await client.GetDocumentAsync(saved.Headers.Location!.OriginalString);
        var link = shown.QuerySelectorAll(".saved-views a.saved-view-link").Single(a => a.Text() == "Form view");
        Assert.Equal("/ui/runs?status=failed&q=form-view", link.GetAttribute("href"));
        Assert.Equal("page", link.GetAttribute("aria-current"));

        var delete = link.ParentElement!.QuerySelector("form.saved-view-delete")!;
        var deleted = await client.PostAsync(delete.GetAttribute("action"), new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.SeeOther, deleted.StatusCode);
        Assert.DoesNotContain("Form view", (await client.GetDocumentAsync("/ui/runs")).QuerySelectorAll(".saved-views a").Select(a => a.Text()));
    }

    [Fact]
    public async Task RunsPage_SaveForm_WithoutTokenOrBadQuery_400ErrorFragment()
    {
        var (client, token, _) = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Operator));

        var noToken = await client.PostAsync("/ui/views", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "x", ["query"] = "" }));
        var badQuery = await client.PostAsync("/ui/views", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["name"] = "x", ["query"] = "status=bogus", ["__RequestVerificationToken"] = token,
        }));
        var listError = await client.GetAsync("/ui/runs/list?status=bogus");

        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badQuery.StatusCode);
        var error = (await Html.ParseAsync(badQuery)).QuerySelector("p.error")!;
        Assert.Equal((await Html.ParseAsync(listError)).QuerySelector("p.error")!.OuterHtml, error.OuterHtml);
    }

    /// A field the save form does not hold, or one of its fields twice, is refused and nothing is saved.
    [Theory]
    [InlineData("bogus=1", "bogus")]
    [InlineData("name=again", "name")]
    [InlineData("replace=true&replace=true", "replace")]
    public async Task RunsPage_SaveForm_UnknownOrRepeatedField_400NamingIt_NothingSaved(string extra, string parameter)
    {
        var signedIn = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Operator));
        var name = "refused-" + Guid.NewGuid().ToString("N")[..8];
        List<KeyValuePair<string, string>> fields = [new("name", name), new("query", "status=failed"), new("__RequestVerificationToken", signedIn.Token)];
        fields.AddRange(extra.Split('&').Select(f => f.Split('=')).Select(f => KeyValuePair.Create(f[0], f[1])));

        var response = await PostFormAsync(signedIn, fields, htmx: true);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(parameter, (await Html.ParseAsync(response)).QuerySelector("p.error")!.GetAttribute("data-parameter"));
        var names = await NamesAsync(factory.Bearer("alpha", Roles.Viewer));
        Assert.DoesNotContain(name, names);
        Assert.DoesNotContain("again", names);
    }

    /// The runs page's save form posted as the browser sends it: by htmx (`HX-Request`) or as the page's own navigation.
    private static Task<HttpResponseMessage> PostSaveFormAsync(CookieClient signedIn, string name, string query, bool htmx) =>
        PostFormAsync(signedIn, new Dictionary<string, string> { ["name"] = name, ["query"] = query, ["__RequestVerificationToken"] = signedIn.Token }, htmx);

    private static Task<HttpResponseMessage> PostFormAsync(CookieClient signedIn, IEnumerable<KeyValuePair<string, string>> fields, bool htmx)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/ui/views") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add(htmx ? "HX-Request" : "Sec-Fetch-Mode", htmx ? "true" : "navigate");
        return signedIn.Client.SendAsync(request);
    }

    /// The fields of a form of the answer, as a browser would post them.
    private static List<KeyValuePair<string, string>> FieldsOf(AngleSharp.Dom.IElement form) =>
        form.QuerySelectorAll("input[name]").Select(i => new KeyValuePair<string, string>(i.GetAttribute("name")!, i.GetAttribute("value") ?? "")).ToList();

    /// A view of `name` saved, then the runs page's form posted under that name again, with `query`.
    private async Task<HttpResponseMessage> SaveTakenNameAsync(string name, string query, bool htmx) =>
        (await SaveTakenNameWithAsync(name, query, htmx)).Response;

    private async Task<(HttpResponseMessage Response, CookieClient SignedIn, long Id)> SaveTakenNameWithAsync(string name, string query, bool htmx)
    {
        var signedIn = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Operator));
        var id = (await SavedAsync(factory.Bearer("alpha", Roles.Operator), name, "status=running")).GetProperty("id").GetInt64();
        return (await PostSaveFormAsync(signedIn, name, query, htmx), signedIn, id);
    }

    private async Task<JsonNode> ViewNamedAsync(string name) =>
        (await factory.Bearer("alpha", Roles.Viewer).GetJsonAsync("/api/views")).AsArray().Single(v => (string)v!["name"]! == name)!;

    [Fact]
    public async Task RunsPage_SaveForm_IsAnHtmxFormWhoseAnswerGoesBesideIt()
    {
        var (client, _, _) = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Operator));

        var page = await client.GetDocumentAsync("/ui/runs?status=failed");

        var form = page.QuerySelector(".saved-views form.save-view-form")!;
        Assert.Equal("/ui/views", form.GetAttribute("hx-post"));
        var target = page.QuerySelector(form.GetAttribute("hx-target")!);
        Assert.NotNull(target);
        Assert.NotNull(target!.Closest(".saved-views"));
        Assert.Equal(target.Id, form.QuerySelector("input[name=name]")!.GetAttribute("aria-describedby"));
    }

    [Fact]
    public async Task RunsPage_SaveForm_Htmx_SavedGoesToTheViewByHxRedirect()
    {
        var signedIn = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Operator));

        var saved = await PostSaveFormAsync(signedIn, "htmx saved", "status=failed&q=htmx-saved", htmx: true);

        Assert.True(saved.IsSuccessStatusCode, saved.StatusCode.ToString());
        Assert.Equal("/ui/runs?status=failed&q=htmx-saved", saved.Headers.GetValues("HX-Redirect").Single());
        Assert.Contains("htmx saved", await NamesAsync(factory.Bearer("alpha", Roles.Viewer)));
    }

    [Fact]
    public async Task RunsPage_SaveForm_NameTaken_Htmx_409FragmentNamingTheClash()
    {
        var again = await SaveTakenNameAsync("Taken <b>name</b>", "status=failed&q=clash", htmx: true);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var answer = await Html.ParseAsync(again);
        Assert.Null(answer.QuerySelector("h1"));
        var error = answer.QuerySelector("p.error[role=alert]")!;
        Assert.Equal("A view named “Taken <b>name</b>” already exists — choose another name, or replace it.", error.Text());
        Assert.Null(error.QuerySelector("b"));
        Assert.Equal(1, (await NamesAsync(factory.Bearer("alpha", Roles.Viewer))).Count(n => n == "Taken <b>name</b>"));
    }

    /// Beside the name taken: what that view shows now, and a form that saves it again with the filter just posted,
    /// through htmx beside the form, to the view's page by HX-Redirect. The view keeps its id.
    [Fact]
    public async Task RunsPage_SaveForm_NameTaken_Htmx_ReplaceFormSavesThatViewAgainWithThisFilter()
    {
        var (again, signedIn, id) = await SaveTakenNameWithAsync("Replace <i>me</i>", "status=failed&q=replace-htmx", htmx: true);
        var answer = await Html.ParseAsync(again);
        var form = answer.QuerySelector("form.save-view-replace")!;

        Assert.Equal("/ui/views", form.GetAttribute("hx-post"));
        Assert.Equal("#save-view-answer", form.GetAttribute("hx-target"));
        Assert.Equal("It shows status=running.", form.QuerySelector("p.muted")!.Text());
        Assert.Equal("Replace “Replace <i>me</i>” with this filter", form.QuerySelector("button[type=submit]")!.Text());
        Assert.Null(form.QuerySelector("i"));
        var replaced = await PostFormAsync(signedIn, FieldsOf(form), htmx: true);

        Assert.True(replaced.IsSuccessStatusCode, replaced.StatusCode.ToString());
        Assert.Equal("/ui/runs?status=failed&q=replace-htmx", replaced.Headers.GetValues("HX-Redirect").Single());
        var view = await ViewNamedAsync("Replace <i>me</i>");
        Assert.Equal(id, (long)view["id"]!);
        Assert.Equal("status=failed&q=replace-htmx", (string)view["query"]!);
    }

    [Fact]
    public async Task RunsPage_SaveForm_NameTaken_WithoutScript_TheReplaceFormOnThe409PageSaves()
    {
        var (again, signedIn, id) = await SaveTakenNameWithAsync("Replace page", "status=completed&q=replace-page", htmx: false);
        var page = await Html.ParseAsync(again);
        var form = page.QuerySelector("main form.save-view-replace")!;

        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal("/ui/views", form.GetAttribute("action"));
        var replaced = await PostFormAsync(signedIn, FieldsOf(form), htmx: false);

        Assert.Equal(HttpStatusCode.SeeOther, replaced.StatusCode);
        Assert.Equal("/ui/runs?status=completed&q=replace-page", replaced.Headers.Location?.OriginalString);
        Assert.Equal(id, (long)(await ViewNamedAsync("Replace page"))["id"]!);
    }

    [Fact]
    public async Task RunsPage_SaveForm_ReplaceNotTrue_400NamingIt()
    {
        var signedIn = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Operator));

        var response = await PostFormAsync(signedIn, new Dictionary<string, string>
        {
            ["name"] = "replace yes", ["query"] = "", ["replace"] = "yes", ["__RequestVerificationToken"] = signedIn.Token,
        }, htmx: true);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("replace", (await Html.ParseAsync(response)).QuerySelector("[data-parameter]")?.GetAttribute("data-parameter"));
        Assert.DoesNotContain("replace yes", await NamesAsync(factory.Bearer("alpha", Roles.Viewer)));
    }

    [Fact]
    public async Task RunsPage_SaveForm_NameTaken_WithoutScript_409PageSaysSoAndLinksBackToTheFilter()
    {
        var again = await SaveTakenNameAsync("Taken page", "status=failed&layer_name=night&offset=20", htmx: false);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var page = await Html.ParseAsync(again);
        Assert.Equal("409 Conflict", page.QuerySelector("main h1").Text());
        Assert.StartsWith("A view named “Taken page” already exists", page.QuerySelector("main p.error").Text());
        // Back to the list the form was posted from, its filter as the list writes it (paging aside).
        var back = page.QuerySelectorAll("main a").Single(a => a.Text().StartsWith("Back to the runs", StringComparison.Ordinal));
        Assert.Equal("/ui/runs?layer_name=night&status=failed", back.GetAttribute("href"));
    }

    [Fact]
    public async Task RunsPage_Viewer_SeesTheViewsButNoFormAndMayNotPostIt()
    {
        await SavedAsync(factory.Bearer("alpha", Roles.Operator), "viewer sees this", "status=completed");
        var (client, token, _) = await factory.SignInAsync(KeyedFactory.KeyFor("alpha", Roles.Viewer));

        var page = await client.GetDocumentAsync("/ui/runs");
        var post = await client.PostAsync("/ui/views", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["name"] = "viewer's", ["query"] = "", ["__RequestVerificationToken"] = token,
        }));

        Assert.Contains("viewer sees this", page.QuerySelectorAll(".saved-views a.saved-view-link").Select(a => a.Text()));
        Assert.Null(page.QuerySelector(".saved-views form"));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class SavedViewsApiTestsOnPostgres(PostgresKeyedFactory factory) : SavedViewsApiTests(factory), IClassFixture<PostgresKeyedFactory>;

/// Views saved by the trusted local caller (no keys configured) say who, as the activity and bulk operations do.
public class SavedViewsLoopbackTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    [Fact]
    public async Task Post_FromLoopback_CreatedByLoopback()
    {
        var response = await factory.CreateClient().PostAsJsonAsync("/api/views", new { name = "loopback view", query = "status=failed" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("loopback", (await response.JsonAsync()).GetProperty("createdBy").GetString());
    }
}
