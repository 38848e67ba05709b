using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Browser;

/// The app with keys on a real port: a person is sent to /login, pastes a key and sees their runs.
/// Its own small fixture (BrowserFixture's app has no keys); they can be folded together later.
public sealed class SignInBrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public KeyedKestrelFactory Factory { get; } = new();
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(BrowserFixture.ChromiumPath))
            throw new InvalidOperationException($"Browser tests need Chromium at {BrowserFixture.ChromiumPath}: apt-get install -y chromium (.ci/run does this).");
        Factory.UseKestrel(0);
        Factory.StartServer();
        var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First().Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1").TrimEnd('/');
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFixture.ChromiumPath, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Factory.DisposeAsync();
    }

    public sealed class KeyedKestrelFactory : KeyedFactory
    {
        protected override bool UseTestClock => false;
    }
}

public sealed class SignInBrowserTests(SignInBrowserFixture fixture) : IClassFixture<SignInBrowserFixture>
{
    [Fact]
    public async Task Login_PasteKey_SeesOwnTenantsRunsAndSignsOut()
    {
        using var api = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        api.DefaultRequestHeaders.Authorization = new("Bearer", KeyedFactory.SuperAdminKey);
        await api.CreateRunAsync(new { workflowName = "browser-signin", tenantId = "alpha", name = "Alpha browser run", status = "completed" });
        await api.CreateRunAsync(new { workflowName = "browser-signin", tenantId = "beta", name = "Beta browser run", status = "completed" });
        var context = await fixture.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);

        await page.GotoAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-signin");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login\\?returnUrl="));
        await page.FillAsync("input[name=key]", KeyedFactory.KeyFor("alpha", Roles.Viewer));
        await page.ClickAsync("form.login-form button[type=submit]");

        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/ui/runs?layer_name=browser-signin");
        await Assertions.Expect(page.Locator("table.runs-table tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.runs-table tbody tr .run-name")).ToHaveTextAsync("Alpha browser run");
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "runmonitor.auth");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Null(await page.EvaluateAsync<string?>("() => document.cookie.includes('runmonitor.auth') ? 'visible' : null"));

        // htmx requests carry the session and the page's token header.
        await page.SelectOptionAsync("select[name=status]", "failed");
        await Assertions.Expect(page.Locator("#runs-list .empty-state")).ToHaveTextAsync("No runs found.");

        await page.ClickAsync("form.signout button[type=submit]");
        await Assertions.Expect(page).ToHaveURLAsync(fixture.BaseUrl + "/login");
        await page.GotoAsync(fixture.BaseUrl + "/ui/runs");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await context.CloseAsync();
    }
}
