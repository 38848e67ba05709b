using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using RunMonitor.Peers;

// The peer RunMonitor is measured beside: Hangfire 1.8's dashboard over Hangfire.PostgreSql, no job server.
//   Peers serve   --db CONN --urls http://127.0.0.1:PORT     the dashboard at /hangfire
//   Peers load    --db CONN --jobs N [--days 30]             fill Hangfire's schema with N jobs, as Hangfire writes them
//   Peers compare --db CONN --hangfire URL --runmonitor URL --jobs N [--requests 1000] [--out file.md]
string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
var db = Arg("--db") ?? throw new ArgumentException("--db CONNECTION_STRING is required");

switch (args.FirstOrDefault())
{
    case "load":
        var jobs = int.Parse(Arg("--jobs") ?? throw new ArgumentException("--jobs N is required"));
        await HangfireLoader.LoadAsync(db, jobs, int.Parse(Arg("--days") ?? "30"), Console.Out);
        return 0;
    case "compare":
        return await Compare.RunAsync(db, Arg("--hangfire")!, Arg("--runmonitor")!, int.Parse(Arg("--jobs")!),
            int.Parse(Arg("--requests") ?? "1000"), Arg("--out"));
    case "serve":
        var builder = WebApplication.CreateBuilder(args.Skip(1).ToArray());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddHangfire(c => HangfireLoader.Configure(c, db));
        var app = builder.Build();
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            // A loopback benchmark: no sign-in, and the stats poll is posted without the page's token.
            Authorization = [new AllowAll()],
            IgnoreAntiforgeryToken = true,
        });
        app.Run();
        return 0;
    default:
        Console.Error.WriteLine("usage: Peers serve|load|compare --db CONNECTION_STRING …");
        return 2;
}

sealed class AllowAll : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => true;
}
