using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Bulk;

/// `RunMonitor:Bulk:BatchSize|PauseMilliseconds`: how many runs one batch acts on, and the pause between batches that
/// leaves the writer to ingest and the list (SPEC: ingest keeps at least half its rate while 100,000 runs are retried).
public sealed class BulkOptions
{
    public int BatchSize { get; set; } = 100;
    public int PauseMilliseconds { get; set; } = 60; // measured: 20 left ingest 42 % of its idle rate, 60 left it 86 % (PERFORMANCE.md)
}

/// Works the running operations in turns, one batch of each at a time, until each runs out of items or is stopped.
/// Operations are rows, so a restart resumes them, and on PostgreSQL every instance works them side by side: each
/// batch claims items no other instance holds.
public sealed class BulkWorker(BulkStore store, IRunEvents events, Microsoft.Extensions.Options.IOptions<BulkOptions> options,
    ILogger<BulkWorker> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// A new operation was started: work it now rather than at the next look.
    public void Notify()
    {
        if (_wake.CurrentCount == 0) try { _wake.Release(); } catch (SemaphoreFullException) { }
    }

    private static readonly TimeSpan IdleLook = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batchSize = Math.Clamp(options.Value.BatchSize, 1, 10_000);
        var pause = TimeSpan.FromMilliseconds(Math.Clamp(options.Value.PauseMilliseconds, 0, 60_000));
        while (!stoppingToken.IsCancellationRequested)
        {
            var worked = 0;
            try
            {
                foreach (var id in await store.RunningAsync(stoppingToken))
                {
                    if (stoppingToken.IsCancellationRequested) return;
                    var batch = await store.ProcessBatchAsync(id, batchSize);
                    worked += batch.Processed;
                    foreach (var change in batch.Changes) events.Publish(change);
                    if (batch.Finished && batch.Processed > 0) logger.LogInformation("Bulk operation {Id} finished", id);
                    if (pause > TimeSpan.Zero && batch.Processed > 0) await Task.Delay(pause, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Bulk operation pass failed; trying again");
                worked = 0;
            }
            if (worked == 0)
            {
                try { await _wake.WaitAsync(IdleLook, stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}

public static class BulkSetup
{
    public static IServiceCollection AddBulkOperations(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<BulkOptions>(configuration.GetSection("RunMonitor:Bulk"));
        services.AddSingleton<BulkStore>();
        services.AddSingleton<IRunPurgeListener>(s => s.GetRequiredService<BulkStore>());
        services.AddSingleton<BulkWorker>();
        services.AddHostedService(s => s.GetRequiredService<BulkWorker>());
        return services;
    }
}
