using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Admin;

public sealed class AdminKeysTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    [Fact]
    public async Task Admin_ListsKeysWithoutSecrets()
    {
        var (key, secret) = await factory.Services.GetRequiredService<ApiKeyStore>().CreateAsync("beta", Roles.Ingest);

        var response = await factory.Bearer(KeyedFactory.SuperAdminKey).GetAsync("/admin");
        var html = await response.Content.ReadAsStringAsync();
        var doc = await Html.ParseAsync(response);

        var row = doc.QuerySelector($"#keys-table tr[data-key-id='{key.Id}']")!;
        string Cell(int n) => row.QuerySelector($"td:nth-child({n})").Text();
        Assert.Equal(("ingest", "beta", "active"), (Cell(3), Cell(4), Cell(6)));
        Assert.NotNull(row.QuerySelector("form[method=post] button.btn-danger"));
        Assert.Null(doc.QuerySelector("#keys-table tr[data-key-id='config-0'] form"));
        Assert.DoesNotContain(secret, html);
        Assert.DoesNotContain(KeyedFactory.SuperAdminKey, html);
    }

    [Fact]
    public async Task Admin_RevokeFormWithToken_RevokesAndRedirects()
    {
        var keys = factory.Services.GetRequiredService<ApiKeyStore>();
        var (key, secret) = await keys.CreateAsync("alpha", Roles.Viewer);
        var admin = await factory.SignInAsync(KeyedFactory.SuperAdminKey);
        var page = await admin.Client.GetDocumentAsync("/admin");
        var form = page.QuerySelector($"#keys-table tr[data-key-id='{key.Id}'] form")!;
        var fields = form.QuerySelectorAll("input[type=hidden]").ToDictionary(i => i.GetAttribute("name")!, i => i.GetAttribute("value")!);

        var refused = await admin.Client.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent([]));
        var revoked = await admin.Client.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent(fields));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        Assert.Null(await keys.FindAsync(secret));
        var after = await admin.Client.GetDocumentAsync("/admin");
        Assert.Equal($"Key {key.Id} revoked.", after.QuerySelector("#api-keys p[role=status]").Text());
        Assert.Equal("revoked", after.QuerySelector($"#keys-table tr[data-key-id='{key.Id}'] td:nth-child(6)").Text());
    }

    [Fact]
    public async Task Admin_RevokeUnknownKey_Is404()
    {
        var response = await factory.Bearer(KeyedFactory.SuperAdminKey).PostAsync("/admin?handler=revoke&id=nope", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
