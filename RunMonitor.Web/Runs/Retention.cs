using System.Data;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Options;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

public sealed class RetentionOptions
{
    /// Finished runs older than this many days (by completion) are deleted. 0 or less keeps everything.
    public int RetentionDays { get; init; } = 30;
}

/// A run being deleted: its row number (what the delete goes by: its id alone may be another tenant's run too) and key.
public sealed record DeletedRun
{
    public long Pk { get; init; }
    public string TenantId { get; init; } = "";
    public string Id { get; init; } = "";
}

/// Something that keeps data about runs outside `runs`/`steps`/`run_errors` (artifacts' files) and must
/// let go of it when runs are purged. Both calls get the batch's runs; implement either or both.
public interface IRunPurgeListener
{
    /// Inside the delete's transaction, before the rows go: read or delete what references them.
    Task BeforeDeleteAsync(DbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs, CancellationToken ct) => Task.CompletedTask;

    /// After the batch committed: remove files and caches (the rows are gone for good).
    Task AfterDeleteAsync(IReadOnlyList<DeletedRun> runs, CancellationToken ct) => Task.CompletedTask;

    /// Once a pass, after the runs: what is older than the cutoff and belongs to no run, a batch a transaction; true asks
    /// to be called again in a new one (more is left).
    Task<bool> PurgeOlderAsync(DbConnection connection, IDbTransaction tx, string cutoff, CancellationToken ct) => Task.FromResult(false);
}

public sealed record PurgeRecord
{
    public long Id { get; init; }
    public string RanAt { get; init; } = "";
    public string Cutoff { get; init; } = "";
    public long RunsDeleted { get; init; }
    public long StepsDeleted { get; init; }

    /// When the pass ended with everything past the cutoff gone; null while it runs, or when it failed or its instance
    /// went away mid-pass.
    public string? FinishedAt { get; init; }

    /// When its last batch went in (its start until then): a pass that has not moved for `RunPurger.StallAfter` is taken
    /// to have gone with its instance.
    public string? ProgressAt { get; init; }

    /// Why the pass ended before it finished (the error, or the instance shutting down); null otherwise.
    public string? Failure { get; init; }

    /// Running: not ended, and its last batch is within `RunPurger.StallAfter` of now.
    public bool IsRunning(DateTimeOffset now) =>
        FinishedAt is null && Failure is null && now - DbTime.Parse(ProgressAt ?? RanAt) < RunPurger.StallAfter;
}

/// Deletes finished runs past the retention period in small batches (one short write transaction
/// each, so ingest is never held up), their steps and errors by ON DELETE CASCADE, and records the pass.
/// Instances sharing a PostgreSQL store take turns: a pass begins under the dialect's `LockKey` by recording itself,
/// unless another instance's pass began within the hour and has not failed or stalled (it records nothing then), each
/// batch adds what its delete removed to that record, and the pass records how it ended.
public sealed class RunPurger(Database database, ISqlDialect dialect, TimeProvider time, IOptions<RetentionOptions> options,
    IEnumerable<IRunPurgeListener> listeners, ILogger<RunPurger> logger)
{
    public const int BatchSize = 500;
    public const string LockName = "retention:purge";

    /// A pass with no batch for this long has gone with its instance (a batch is 500 runs, well under a second): another
    /// instance takes its turn, and /admin no longer calls it running.
    public static readonly TimeSpan StallAfter = TimeSpan.FromMinutes(10);

    private const int FailureLength = 500;

    private const string SelectExpired = """
        SELECT pk AS Pk, tenant_id AS TenantId, id AS Id FROM runs
        WHERE completed_at IS NOT NULL AND completed_at < @Cutoff AND status IN @Terminal
        ORDER BY completed_at LIMIT @Limit
        """;

    // Runs another transaction holds (another pass's batch, a run being deleted) are passed over, not handed on twice.
    private readonly string _selectExpired = dialect.Lists(SelectExpired) + dialect.SkipLocked;

    private const string CountSteps = "SELECT COUNT(*) FROM steps s JOIN runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id WHERE r.pk IN @Pks";

    private const string DeleteRuns = "DELETE FROM runs WHERE pk IN @Pks";

    // The latest pass that has not failed: the one whose hour keeps other instances' passes back, unless it stalled.
    private const string SelectLastStanding = """
        SELECT id AS Id, ran_at AS RanAt, cutoff AS Cutoff, finished_at AS FinishedAt, progress_at AS ProgressAt
        FROM retention_purges WHERE failure IS NULL ORDER BY id DESC LIMIT 1
        """;

    private const string InsertPurge = """
        INSERT INTO retention_purges (ran_at, cutoff, runs_deleted, steps_deleted, progress_at)
        VALUES (@RanAt, @Cutoff, 0, 0, @RanAt) RETURNING id
        """;

    private const string AddToPurge = """
        UPDATE retention_purges SET runs_deleted = runs_deleted + @Runs, steps_deleted = steps_deleted + @Steps, progress_at = @At
        WHERE id = @Id
        """;

    private const string MarkProgress = "UPDATE retention_purges SET progress_at = @At WHERE id = @Id";

    private const string MarkFinished = "UPDATE retention_purges SET finished_at = @At, progress_at = @At WHERE id = @Id";

    private const string MarkFailed = "UPDATE retention_purges SET failure = @Failure, progress_at = @At WHERE id = @Id";

    // The passes' own record goes by the same period: a row an hour, so a retention period's worth, read whole.
    private const string DeleteOldPurges = "DELETE FROM retention_purges WHERE ran_at < @Cutoff";

    public int RetentionDays => options.Value.RetentionDays;

    /// One pass: every expired run, batch by batch. Returns what it recorded, or null when retention is off or another
    /// instance's pass began within the hour (`RetentionWorker.Interval`) and neither failed nor stalled. A pass that
    /// throws records why before the exception goes on.
    public async Task<PurgeRecord?> PurgeAsync(CancellationToken ct = default)
    {
        if (RetentionDays <= 0) return null;
        var now = time.GetUtcNow();
        var cutoff = DbTime.ToDb(now - TimeSpan.FromDays(RetentionDays));
        var record = new PurgeRecord { RanAt = DbTime.ToDb(now), Cutoff = cutoff };
        var id = await database.WriteAsync<long?>(async (connection, tx) =>
        {
            // One writer (SQLite) is one instance: its passes are the worker's hourly ones, nothing to take turns with.
            if (dialect.LockKey is { } lockKey)
            {
                await connection.ExecuteAsync(lockKey, new { LockKey = LockName }, tx);
                var last = await connection.QuerySingleOrDefaultAsync<PurgeRecord>(SelectLastStanding, transaction: tx);
                if (last is not null && now - DbTime.Parse(last.RanAt) < RetentionWorker.Interval
                    && (last.FinishedAt is not null || last.IsRunning(now))) return null;
            }
            await connection.ExecuteAsync(DeleteOldPurges, new { Cutoff = cutoff }, tx);
            return await connection.ExecuteScalarAsync<long>(InsertPurge, record, tx);
        }, ct);
        if (id is null) return null;
        record = record with { Id = id.Value };
        try
        {
            record = await DeleteExpiredAsync(record, ct);
            var at = DbTime.ToDb(time.GetUtcNow());
            await database.WriteAsync((connection, tx) => connection.ExecuteAsync(MarkFinished, new { At = at, Id = record.Id }, tx), ct);
            return record with { FinishedAt = at, ProgressAt = at };
        }
        catch (Exception e)
        {
            await RecordFailureAsync(record.Id, e);
            throw;
        }
    }

    private async Task<PurgeRecord> DeleteExpiredAsync(PurgeRecord record, CancellationToken ct)
    {
        var (id, cutoff) = (record.Id, record.Cutoff);
        while (true)
        {
            var batch = await database.WriteAsync(async (connection, tx) =>
            {
                var expired = (await connection.QueryAsync<DeletedRun>(_selectExpired,
                    new { Cutoff = cutoff, Terminal = RunStatus.Terminal.ToArray(), Limit = BatchSize }, tx)).ToList();
                if (expired.Count == 0) return (Ids: expired, Runs: 0L, Steps: 0L);
                foreach (var listener in listeners) await listener.BeforeDeleteAsync(connection, tx, expired, ct);
                var pks = expired.Select(r => r.Pk).ToArray();
                var stepCount = await connection.ExecuteScalarAsync<long>(dialect.Lists(CountSteps), new { Pks = pks }, tx);
                long deleted = await connection.ExecuteAsync(dialect.Lists(DeleteRuns), new { Pks = pks }, tx);
                await connection.ExecuteAsync(AddToPurge, new { Id = id, Runs = deleted, Steps = stepCount, At = DbTime.ToDb(time.GetUtcNow()) }, tx);
                return (Ids: expired, Runs: deleted, Steps: stepCount);
            }, ct);
            if (batch.Ids.Count == 0) break;
            record = record with { RunsDeleted = record.RunsDeleted + batch.Runs, StepsDeleted = record.StepsDeleted + batch.Steps };
            foreach (var listener in listeners) await listener.AfterDeleteAsync(batch.Ids, ct);
            if (batch.Ids.Count < BatchSize) break;
        }
        foreach (var listener in listeners)
            while (await database.WriteAsync(async (connection, tx) =>
            {
                var more = await listener.PurgeOlderAsync(connection, tx, cutoff, ct);
                await connection.ExecuteAsync(MarkProgress, new { At = DbTime.ToDb(time.GetUtcNow()), Id = id }, tx);
                return more;
            }, ct)) { }
        return record;
    }

    /// Best effort, and not cancelled with the pass (an instance shutting down still says its pass stopped): a store that
    /// fails the write too leaves the pass unfinished, and `StallAfter` lets the next one go.
    private async Task RecordFailureAsync(long id, Exception e)
    {
        var failure = e is OperationCanceledException ? "stopped: its instance shut down" : $"{e.GetType().Name}: {e.Message}";
        if (failure.Length > FailureLength) failure = failure[..FailureLength];
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await database.WriteAsync((connection, tx) =>
                connection.ExecuteAsync(MarkFailed, new { Failure = failure, At = DbTime.ToDb(time.GetUtcNow()), Id = id }, tx), timeout.Token);
        }
        catch (Exception recording)
        {
            logger.LogWarning(recording, "Could not record why retention pass {Id} ended; the next pass may start once it has not moved for {StallAfter}", id, StallAfter);
        }
    }

    private const string SelectLast = """
        SELECT id AS Id, ran_at AS RanAt, cutoff AS Cutoff, runs_deleted AS RunsDeleted, steps_deleted AS StepsDeleted,
               finished_at AS FinishedAt, progress_at AS ProgressAt, failure AS Failure
        FROM retention_purges ORDER BY id DESC LIMIT 1
        """;

    public async Task<PurgeRecord?> LastAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PurgeRecord>(SelectLast);
    }
}

/// Runs the purge a minute after start-up (not competing with it) and then every hour, on the injected clock.
public sealed class RetentionWorker(RunPurger purger, TimeProvider time, ILogger<RetentionWorker> logger) : BackgroundService
{
    public static readonly TimeSpan StartDelay = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try { await Task.Delay(StartDelay, time, stoppingToken); }
        catch (OperationCanceledException) { return; }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await purger.PurgeAsync(stoppingToken) is { RunsDeleted: > 0 } record)
                    logger.LogInformation("Retention removed {Runs} runs and {Steps} steps completed before {Cutoff}", record.RunsDeleted, record.StepsDeleted, record.Cutoff);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Retention pass failed; it runs again in {Interval}", Interval);
            }
            try { await Task.Delay(Interval, time, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
