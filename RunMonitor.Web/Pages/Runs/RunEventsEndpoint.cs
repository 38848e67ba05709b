using System.Text;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `GET /ui/runs/{id}/events`: server-sent events for one run. Sends `run` (data: its status) on
/// connect and whenever the run or a step changes, `log` when log lines were added, then `end` once the run is
/// terminal, and closes.
/// A `ping` every 10 s tells the page the stream really flows (a buffering proxy would hold it back),
/// so the page can fall back to polling when it does not.
public static class RunEventsEndpoint
{
    public const string ChangedEvent = "run";
    public const string EndEvent = "end";
    public const string PingEvent = "ping";
    public const string LogEvent = "log";
    public const string RouteName = "RunEvents";
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    public static IEndpointRouteBuilder MapRunEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.RunEvents, StreamAsync).WithName(RouteName).RequireAuthorization(Policies.RequireRead).AcceptsQuery(RunTenant.Parameter);
        return app;
    }

    private static async Task StreamAsync(string id, HttpContext http, RunViews store, IRunEvents events,
        IHostApplicationLifetime lifetime, CancellationToken requestAborted)
    {
        var tenant = RunTenant.Of(http);
        // Subscribe before reading, so a change between the read and the wait is not missed.
        using var subscription = events.Subscribe(id);
        var run = await store.GetAsync(tenant, id, requestAborted);
        if (run is null)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync("<p>Run not found</p>", requestAborted);
            return;
        }
        // Read again in the run's own tenant: for a super admin the id could come to name another tenant's run too.
        tenant = run.TenantId;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var ct = stop.Token;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        try
        {
            await WriteAsync(http.Response, "retry: 5000\n\n", ct);
            while (true)
            {
                await WriteAsync(http.Response, $"event: {ChangedEvent}\ndata: {run.Status}\n\n", ct);
                if (RunStatus.IsTerminal(run.Status))
                {
                    await WriteAsync(http.Response, $"event: {EndEvent}\ndata: {run.Status}\n\n", ct);
                    return;
                }
                // New log lines alone send `log` (log views read `after=`); the run's own views refresh on `run` only.
                var seen = run.Status;
                while (true)
                {
                    var change = await WaitForChangeAsync(subscription, ct);
                    if (change == Change.None)
                    {
                        await WriteAsync(http.Response, $"event: {PingEvent}\ndata: \n\n", ct);
                        continue;
                    }
                    run = await store.GetAsync(tenant, id, ct);
                    if (run is null) return;
                    if (change.HasFlag(Change.Log)) await WriteAsync(http.Response, $"event: {LogEvent}\ndata: \n\n", ct);
                    if (change.HasFlag(Change.Run) || run.Status != seen) break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The browser went away or the app is stopping.
        }
    }

    [Flags]
    private enum Change { None = 0, Run = 1, Log = 2 }

    /// What arrived (all waiting notices are consumed): the run or its steps changed, log lines were added, or
    /// nothing within a heartbeat.
    private static async Task<Change> WaitForChangeAsync(IRunSubscription subscription, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Heartbeat);
        try
        {
            if (!await subscription.Changes.WaitToReadAsync(timeout.Token)) return Change.None;
            var change = Change.None;
            while (subscription.Changes.TryRead(out var notice)) change |= notice.IsLog ? Change.Log : Change.Run;
            return change == Change.None ? Change.Run : change;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Change.None;
        }
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken ct)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await response.Body.FlushAsync(ct);
    }
}
