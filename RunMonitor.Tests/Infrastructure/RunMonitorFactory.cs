using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RunMonitor.Tests.Infrastructure;

/// The app on a temp-file SQLite database of its own. Requests come from loopback unless a test
/// sends `X-Test-Remote-Ip`, so the "trusted until keys exist" rule can be tested both ways.
public class RunMonitorFactory : WebApplicationFactory<Program>
{
    public const string RemoteIpHeader = "X-Test-Remote-Ip";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runmonitor-tests", Guid.NewGuid().ToString("N"));

    public RunMonitorFactory()
    {
        Directory.CreateDirectory(_directory);
    }

    public string DatabasePath => Path.Combine(_directory, "runmonitor.db");

    public TestClock Clock { get; } = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));

    /// Extra configuration a test class needs (webhooks, keys, limits).
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected virtual bool UseTestClock => true;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RunMonitor:Database", DatabasePath);
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.ConfigureServices(services =>
        {
            if (UseTestClock)
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(Clock);
            }
            services.AddSingleton<IStartupFilter, RemoteIpStartupFilter>();
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed class RemoteIpStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Connection.RemoteIpAddress is null || context.Request.Headers.ContainsKey(RemoteIpHeader))
                {
                    context.Connection.RemoteIpAddress = context.Request.Headers.TryGetValue(RemoteIpHeader, out var ip)
                        ? IPAddress.Parse(ip.ToString())
                        : IPAddress.Loopback;
                }
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// A clock the test moves by hand.
public sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;

    public void Set(DateTimeOffset value) => _now = value;
}
