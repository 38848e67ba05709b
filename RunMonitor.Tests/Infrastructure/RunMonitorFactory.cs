using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RunMonitor.Tests.Infrastructure;

/// Which store a test factory runs the app on.
public enum TestStore { Sqlite, Postgres }

/// The app on a store of its own: a temp-file SQLite database, or (for the store suite's PostgreSQL runs) a
/// fresh database on the test PostgreSQL server. Requests come from loopback unless a test
/// sends `X-Test-Remote-Ip`, so the "trusted until keys exist" rule can be tested both ways.
public class RunMonitorFactory : WebApplicationFactory<Program>
{
    public const string RemoteIpHeader = "X-Test-Remote-Ip";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runmonitor-tests", Guid.NewGuid().ToString("N"));

    public RunMonitorFactory() : this(TestStore.Sqlite) { }

    protected RunMonitorFactory(TestStore store)
    {
        Store = store;
        Directory.CreateDirectory(_directory);
        if (store == TestStore.Postgres) PostgresConnectionString = PostgresServer.CreateDatabase();
        _ownsDatabase = true;
    }

    /// Another instance of the app on a PostgreSQL database that someone else made (and drops).
    protected RunMonitorFactory(string postgresConnectionString)
    {
        Store = TestStore.Postgres;
        Directory.CreateDirectory(_directory);
        PostgresConnectionString = postgresConnectionString;
    }

    private readonly bool _ownsDatabase;

    public TestStore Store { get; }

    /// The SQLite file (SQLite stores only).
    public string DatabasePath => Path.Combine(_directory, "runmonitor.db");

    /// The test database's connection string (PostgreSQL stores only).
    public string? PostgresConnectionString { get; }

    /// `RunMonitor:Database` as the app is given it.
    public string DatabaseSetting => PostgresConnectionString ?? DatabasePath;

    public TestClock Clock { get; } = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));

    /// Extra configuration a test class needs (webhooks, keys, limits).
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected virtual bool UseTestClock => true;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("RunMonitor:Database", DatabaseSetting);
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
        if (PostgresConnectionString is not null && _ownsDatabase) PostgresServer.DropDatabase(PostgresConnectionString);
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

/// The app on a fresh PostgreSQL database of its own.
public class PostgresFactory() : RunMonitorFactory(TestStore.Postgres);

/// A clock the test moves by hand.
public sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;

    public void Set(DateTimeOffset value) => _now = value;
}
