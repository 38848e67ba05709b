using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Npgsql;
using RunMonitor.Web.Data;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Web.Runs;

/// `IRunEvents` for several instances sharing one PostgreSQL store: a change reaches this instance's
/// subscribers at once and every other instance through NOTIFY on `runmonitor_runs`. The hosted part
/// sends the queued changes (batched: one notice for many runs, one round trip) and holds one LISTEN connection
/// that hands other instances' notices to the local subscribers, marks cached reads stale and wakes the webhook
/// dispatcher when a run ended; it reconnects with back-off when the connection drops. A notice a run cost the server
/// a queue entry and every listener a delivery and a parse a run, this instance's own listener too: with one instance
/// under ingest up to 0.1 ms of the 0.6–0.7 ms of CPU a create takes (docs/PERFORMANCE.md, issue 21, item 2, fourth step).
public sealed class PostgresRunEvents(Database database, WebhookOutbox outbox, ILogger<PostgresRunEvents> logger)
    : BackgroundService, IRunEvents
{
    public const string Channel = "runmonitor_runs";
    private const int MaxBatch = 100;
    private const int SendAttempts = 10;
    // NOTIFY refuses payloads of 8000 bytes or more; ids are at most 128 characters, so this never bites in practice.
    private const int MaxPayloadBytes = 7000;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    // At most this often a batch that is not full: a live view elsewhere hears of a change this much later at most.
    private static readonly TimeSpan SendInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

    private readonly InProcessRunEvents _local = new();
    // Notices are hints (readers re-read the store): when the store is unreachable for long, the oldest are dropped.
    private readonly Channel<RunChange> _outgoing = System.Threading.Channels.Channel.CreateBounded<RunChange>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private long _connections;

    /// Tells this instance's notices from the others' (one per object, so tests can run two in one process).
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    // How this instance's own notices begin (`Notice` serializes `instance` first): its listener skips them unparsed.
    private string OwnPrefix => field ??= JsonSerializer.Serialize(new Notice(InstanceId, null, null, null))[..^1];

    /// The listener's `application_name`, so an operator (or a test) can find its backend in pg_stat_activity.
    public string ApplicationName => "runmonitor-listen-" + InstanceId;

    /// How many times the LISTEN connection has been established (1 after start, more after reconnects).
    public long Connections => Interlocked.Read(ref _connections);

    public void Publish(RunChange change)
    {
        _local.Publish(change);
        _outgoing.Writer.TryWrite(change);
    }

    public IRunSubscription Subscribe(string runId) => _local.Subscribe(runId);

    /// The notices for `changes`: one for all when it fits NOTIFY's limit, else the halves' (a single change too large
    /// for one goes out without its run, which every listener takes as "anything may have changed").
    internal IEnumerable<string> Payloads(ArraySegment<RunChange> changes)
    {
        var payload = JsonSerializer.Serialize(new Notice(InstanceId, null, null, null,
            changes.Select(c => new RunNotice(c.RunId, c.TenantId, c.Status)).ToList()));
        if (Encoding.UTF8.GetByteCount(payload) <= MaxPayloadBytes) return [payload];
        if (changes.Count == 1) return [JsonSerializer.Serialize(new Notice(InstanceId, null, null, changes[0].Status))];
        var half = changes.Count / 2;
        return Payloads(changes[..half]).Concat(Payloads(changes[half..]));
    }

    private static readonly TimeSpan FlushOnStop = TimeSpan.FromSeconds(2);
    private Task _sending = Task.CompletedTask;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _sending = SendLoopAsync(stoppingToken);
        return Task.WhenAll(_sending, ListenLoopAsync(stoppingToken));
    }

    /// Notices still queued go out before the host stops (for a moment at most), so other instances hear of the last writes.
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _outgoing.Writer.TryComplete();
        try { await _sending.WaitAsync(FlushOnStop, cancellationToken); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
        await base.StopAsync(cancellationToken);
    }

    // Notices are hints sent after the changes they name have committed: their own commit need not wait for the WAL to
    // reach the disk (a flush a batch, beside the creates' own), so the statement turns synchronous_commit off for its
    // transaction. A crash can lose a notice sent just before it, as it can one still queued here.
    private const string NotifyAll =
        $"SELECT pg_notify('{Channel}', payload) FROM set_config('synchronous_commit', 'off', true), unnest(@Payloads) AS payload";

    private async Task SendLoopAsync(CancellationToken ct)
    {
        var reader = _outgoing.Reader;
        var batch = new List<RunChange>(MaxBatch);
        // Kept open from one batch to the next (reopened after a failure): taken from the pool each time, the batches
        // went round every idle connection the reads had opened.
        System.Data.Common.DbConnection? connection = null;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && reader.TryRead(out var payload)) batch.Add(payload);
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        // One statement, one transaction: the notices go out together when it commits.
                        connection ??= await database.OpenAsync(ct);
                        await using var command = connection.CreateCommand();
                        command.CommandText = NotifyAll;
                        var parameter = command.CreateParameter();
                        parameter.ParameterName = "Payloads";
                        parameter.Value = Payloads(new ArraySegment<RunChange>([.. batch])).ToArray();
                        command.Parameters.Add(parameter);
                        await command.ExecuteNonQueryAsync(ct);
                        break;
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        if (connection is not null) await connection.DisposeAsync();
                        connection = null;
                        if (attempt + 1 >= SendAttempts)
                        {
                            // Notices are hints: other instances' live views catch up at the run's next notice.
                            logger.LogWarning(e, "Dropped {Count} run notices to other instances after {Attempts} attempts", batch.Count, SendAttempts);
                            break;
                        }
                        logger.LogWarning(e, "Could not send {Count} run notices to other instances (attempt {Attempt}); retrying", batch.Count, attempt + 1);
                        await Task.Delay(RetryDelay(attempt), ct);
                    }
                }
                // Changes queued meanwhile go out together in the next batch: under ingest a batch went out for every
                // group of creates, a statement and a commit beside each group's own. A full batch leaves more waiting
                // (a bulk operation's changes): the next goes at once, or the queue would fill and drop the oldest.
                if (batch.Count < MaxBatch) await Task.Delay(SendInterval, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    private async Task ListenLoopAsync(CancellationToken ct)
    {
        var listen = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            ApplicationName = ApplicationName,
            // A dedicated connection, never handed back to a pool; keepalives notice a silently dropped one.
            Pooling = false,
            KeepAlive = 15,
        }.ConnectionString;
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(listen);
                connection.Notification += OnNotification;
                await connection.OpenAsync(ct);
                await using (var command = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await command.ExecuteNonQueryAsync(ct);
                if (Interlocked.Increment(ref _connections) > 1)
                {
                    // Notices sent while this instance was not listening are lost: treat everything as changed.
                    logger.LogInformation("Listening to other instances' run notices again");
                    CatchUp();
                }
                failures = 0;
                while (true) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                var delay = RetryDelay(failures++);
                logger.LogWarning(e, "Lost the connection listening for other instances' run notices; reconnecting in {Delay}", delay);
                try { await Task.Delay(delay, ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Payload.StartsWith(OwnPrefix, StringComparison.Ordinal)) return;
        Notice? notice;
        try { notice = JsonSerializer.Deserialize<Notice>(e.Payload); }
        catch (JsonException) { notice = null; }
        if (notice is null)
        {
            logger.LogWarning("Ignored a malformed notice on {Channel}: {Payload}", Channel, e.Payload);
            return;
        }
        if (notice.Instance == InstanceId) return;
        database.NoteCommitElsewhere();
        // A notice of many runs (this version's), of one (an older instance's), or of none: anything may have changed.
        IReadOnlyList<RunNotice> runs = notice.Runs ?? (notice.RunId is null ? [] : [new RunNotice(notice.RunId, notice.TenantId, notice.Status)]);
        if (runs.Count == 0) _local.PublishToEveryRun();
        foreach (var run in runs) _local.Publish(new RunChange(run.RunId, run.TenantId ?? "", run.Status ?? ""));
        // The instance that ended the run queued its webhooks; whichever dispatcher claims them first sends them.
        if (runs.Select(r => r.Status).Append(notice.Status).Any(status => status is not null && RunStatus.IsTerminal(status))) outbox.Notify();
    }

    private void CatchUp()
    {
        database.NoteCommitElsewhere();
        _local.PublishToEveryRun();
        outbox.Notify();
    }

    private static TimeSpan RetryDelay(int failures) =>
        TimeSpan.FromTicks(Math.Min(MaxRetry.Ticks, FirstRetry.Ticks << Math.Min(failures, 10)));

    /// The NOTIFY payload: small JSON, under PostgreSQL's 8000-byte limit. This version sends `runs`; an older instance
    /// sent one run a notice in `runId`, `tenantId` and `status`, and reads a notice of `runs` as one without a run
    /// (anything may have changed), so instances of both versions keep each other current during an upgrade.
    internal sealed record Notice(
        [property: JsonPropertyName("instance")] string Instance,
        [property: JsonPropertyName("runId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RunId,
        [property: JsonPropertyName("tenantId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TenantId,
        [property: JsonPropertyName("status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Status,
        [property: JsonPropertyName("runs"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<RunNotice>? Runs = null);

    internal sealed record RunNotice(
        [property: JsonPropertyName("runId")] string RunId,
        [property: JsonPropertyName("tenantId")] string? TenantId,
        [property: JsonPropertyName("status")] string? Status);
}

public static class RunEventsRegistration
{
    /// In-process events for SQLite's single instance; LISTEN/NOTIFY across instances on PostgreSQL.
    public static IServiceCollection AddRunEvents(this IServiceCollection services, Database database)
    {
        if (!database.IsPostgres) return services.AddSingleton<IRunEvents, InProcessRunEvents>();
        services.AddSingleton<PostgresRunEvents>();
        services.AddSingleton<IRunEvents>(sp => sp.GetRequiredService<PostgresRunEvents>());
        return services.AddHostedService(sp => sp.GetRequiredService<PostgresRunEvents>());
    }
}
