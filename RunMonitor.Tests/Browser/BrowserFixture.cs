using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Browser;

/// The app on a real loopback port (Kestrel) and Debian's Chromium driven by Playwright.
/// A missing Chromium fails the tests with a clear message; it never skips them.
public class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public RunMonitorFactory Factory { get; } = CreateFactory();

    public IBrowser Browser { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public HttpClient Api { get; private set; } = null!;

    private static RunMonitorFactory CreateFactory() => new KestrelFactory();

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"Browser tests need Chromium at {ChromiumPath}: apt-get install -y chromium (.ci/run does this).");
        Factory.UseKestrel(0);
        Factory.StartServer();
        var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First().Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1").TrimEnd('/');
        Api = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs,
        });
    }

    // The contexts of the pages `NewPageAsync` opened, closed when their test ends (`ClosePagesAsync`). Left open, every
    // earlier test's pages went on polling the server and running their timers beside the later tests, on CI's two
    // cores with the rest of the suite.
    private readonly List<IBrowserContext> _contexts = [];

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        lock (_contexts) _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(10_000);
        return page;
    }

    /// Closes the pages `NewPageAsync` opened: each browser test calls it when it ends (they run one at a time).
    public async Task ClosePagesAsync()
    {
        IBrowserContext[] open;
        lock (_contexts)
        {
            open = [.. _contexts];
            _contexts.Clear();
        }
        foreach (var context in open) await context.CloseAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        Api?.Dispose();
        await Factory.DisposeAsync();
    }

    public const string BacklogRule = "reflection-backlog";
    public const string LongRule = "every-tenant-nightly-user-reflection-queue-backlog-watch";

    /// Browser tests run against the real clock: pages poll and htmx compares against now.
    private sealed class KestrelFactory : RunMonitorFactory
    {
        protected override bool UseTestClock => false;

        // Issue 17's browser tests: a rule that fires only while a run of their own workflow waits. Two that never fire,
        // named as people name rules, for /admin's layout on a phone (PhoneLayoutTests).
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Alerts:0:Name"] = WorkersAlertsBrowserTests.Rule, ["RunMonitor:Alerts:0:Kind"] = "queueDepth",
            ["RunMonitor:Alerts:0:Threshold"] = "1", ["RunMonitor:Alerts:0:Workflow"] = WorkersAlertsBrowserTests.Workflow,
            ["RunMonitor:Alerts:1:Name"] = BacklogRule, ["RunMonitor:Alerts:1:Kind"] = "queueDepth",
            ["RunMonitor:Alerts:1:Threshold"] = "100000", ["RunMonitor:Alerts:1:Workflow"] = "nightly-user-reflection",
            ["RunMonitor:Alerts:2:Name"] = LongRule, ["RunMonitor:Alerts:2:Kind"] = "queueDepth", ["RunMonitor:Alerts:2:Threshold"] = "100000",
        };
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
