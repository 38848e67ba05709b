namespace RunMonitor.Web.Runs;

/// Every two seconds, ends the running runs whose worker stopped renewing its lease, so nothing
/// hangs in `running` forever (SPEC: within 10 s of the lease running out).
public sealed class LeaseSweeper(RunQueue queue, TimeProvider time, ILogger<LeaseSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                foreach (var run in await queue.ExpireLeasesAsync(stoppingToken))
                    logger.LogWarning("Run {RunId} ended {Status}: worker lease expired", run.Id, run.Status);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Lease sweep failed; trying again at the next pass");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }
}
