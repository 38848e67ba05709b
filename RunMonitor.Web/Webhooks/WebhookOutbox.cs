using System.Data;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using RunMonitor.Web.Api;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Webhooks;

/// One receiver: `RunMonitor:Webhooks:N:Url|Secret|Tenant` (an empty tenant means every tenant).
public sealed record WebhookConfig
{
    public string Url { get; init; } = "";
    public string? Secret { get; init; }
    public string? Tenant { get; init; }
}

public sealed class WebhookOptions
{
    public List<WebhookConfig> Webhooks { get; init; } = [];
}

public sealed record WebhookDeliveryRow
{
    public long Id { get; init; }
    public string RunId { get; init; } = "";
    public string TenantId { get; init; } = "";
    public string Event { get; init; } = "";
    public long WebhookIndex { get; init; }
    public string Url { get; init; } = "";
    public string Payload { get; init; } = "";
    public string Status { get; init; } = WebhookOutbox.Pending;
    public long Attempts { get; init; }
    public string NextAttemptAt { get; init; } = "";
    public long? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public string CreatedAt { get; init; } = "";
    public string? DeliveredAt { get; init; }
}

/// The durable queue of webhook deliveries: written in the transaction that ends a run, read by
/// `WebhookDispatcher`. Its SQL lives here beside the only code that runs it.
public sealed class WebhookOutbox(IOptionsMonitor<WebhookOptions> options, ISqlDialect dialect) : IRunPurgeListener
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string SignatureHeader = "X-RunMonitor-Signature";

    private readonly SemaphoreSlim _wake = new(0, 1);

    public IReadOnlyList<WebhookConfig> Webhooks => options.CurrentValue.Webhooks;

    private const string InsertDelivery = """
        INSERT INTO webhook_deliveries (run_id, tenant_id, event, webhook_index, url, payload, status, attempts,
            next_attempt_at, created_at)
        VALUES (@RunId, @TenantId, @Event, @WebhookIndex, @Url, @Payload, 'pending', 0, @Now, @Now)
        """;

    /// Queues `run.{status}` for every receiver of the run's tenant; false when none is configured.
    public async Task<bool> EnqueueAsync(IDbConnection connection, IDbTransaction tx, RunRow run, DateTimeOffset now)
    {
        var hooks = HooksFor(run.TenantId);
        if (hooks.Count == 0) return false;
        var errors = await RunRows.GetErrorsAsync(connection, tx, run);
        var eventName = "run." + run.Status;
        var payload = JsonSerializer.Serialize(new { @event = eventName, run = RunJson.From(run, errors) }, JsonAnswer.Options);
        var nowText = DbTime.ToDb(now);
        await connection.ExecuteAsync(InsertDelivery, hooks.Select(h => new
        {
            RunId = run.Id, run.TenantId, Event = eventName, WebhookIndex = h.Index, h.Hook.Url, Payload = payload, Now = nowText,
        }), tx);
        return true;
    }

    /// True when any receiver is configured: a create that may need its delivery then takes a transaction of its own.
    public bool AnyReceiver => Webhooks.Any(h => !string.IsNullOrWhiteSpace(h.Url));

    /// The receivers of a tenant's events (null: an event of every tenant, for the receivers of every tenant only). A
    /// receiver's tenant is read as a tenant id is anywhere (`Acme` is acme).
    private List<(WebhookConfig Hook, int Index)> HooksFor(string? tenant) => Webhooks.Select((h, i) => (Hook: h, Index: i))
        .Where(h => !string.IsNullOrWhiteSpace(h.Hook.Url) && (string.IsNullOrEmpty(h.Hook.Tenant) || (RunFilter.TenantId(h.Hook.Tenant) ?? h.Hook.Tenant) == tenant))
        .ToList();

    /// Queues an event that is not a run's (`alert.firing`, `alert.resolved`): `{"event": name, key: body}`, signed and
    /// retried as a run's; its `run_id` is empty. False when no receiver of that tenant is configured.
    public async Task<bool> EnqueueEventAsync(IDbConnection connection, IDbTransaction tx, string? tenant, string eventName, string key, object body, DateTimeOffset now)
    {
        var hooks = HooksFor(tenant);
        if (hooks.Count == 0) return false;
        var payload = JsonSerializer.Serialize(new Dictionary<string, object> { ["event"] = eventName, [key] = body }, JsonAnswer.Options);
        var nowText = DbTime.ToDb(now);
        await connection.ExecuteAsync(InsertDelivery, hooks.Select(h => new
        {
            RunId = "", TenantId = tenant ?? "", Event = eventName, WebhookIndex = h.Index, h.Hook.Url, Payload = payload, Now = nowText,
        }), tx);
        return true;
    }

    /// Wakes the dispatcher after a commit that queued deliveries.
    public void Notify()
    {
        if (_wake.CurrentCount == 0) try { _wake.Release(); } catch (SemaphoreFullException) { }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);

    // Taking work is a claim: the due rows are moved `claimFor` into the future in the transaction that picks
    // them, so no other dispatcher (another instance's, on PostgreSQL) takes them while this one sends; on
    // PostgreSQL the pick also passes over rows a concurrent claim holds. {0}: the dialect's row lock. The pick
    // is MATERIALIZED: as a plain IN subquery PostgreSQL may rescan it per row, and each rescan skips the rows
    // this UPDATE already changed and takes the next ones, far past the LIMIT.
    private const string ClaimDue = """
        WITH due AS MATERIALIZED (
            SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @Now
            ORDER BY next_attempt_at, id LIMIT @Limit{0})
        UPDATE webhook_deliveries SET next_attempt_at = @ClaimedUntil
        WHERE id IN (SELECT id FROM due) AND status = 'pending'
        RETURNING id AS Id, run_id AS RunId, tenant_id AS TenantId, event AS Event, webhook_index AS WebhookIndex,
            url AS Url, payload AS Payload, status AS Status, attempts AS Attempts, next_attempt_at AS NextAttemptAt,
            last_status_code AS LastStatusCode, last_error AS LastError, created_at AS CreatedAt, delivered_at AS DeliveredAt
        """;

    private const string AnyDue = "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @Now)";

    public static Task<bool> AnyDueAsync(IDbConnection connection, DateTimeOffset now) =>
        connection.ExecuteScalarAsync<bool>(AnyDue, new { Now = DbTime.ToDb(now) });

    /// Up to `limit` of the longest-due deliveries (by id), now held by the caller until `now + claimFor`.
    public static async Task<IReadOnlyList<WebhookDeliveryRow>> ClaimDueAsync(ISqlDialect dialect, IDbConnection connection, IDbTransaction tx,
        DateTimeOffset now, TimeSpan claimFor, int limit) =>
        (await connection.QueryAsync<WebhookDeliveryRow>(string.Format(System.Globalization.CultureInfo.InvariantCulture, ClaimDue, dialect.SkipLocked),
            new { Now = DbTime.ToDb(now), ClaimedUntil = DbTime.ToDb(now + claimFor), Limit = limit }, tx))
        .OrderBy(d => d.Id).ToList();

    private const string SelectForRun = """
        SELECT id AS Id, run_id AS RunId, tenant_id AS TenantId, event AS Event, webhook_index AS WebhookIndex,
            url AS Url, payload AS Payload, status AS Status, attempts AS Attempts, next_attempt_at AS NextAttemptAt,
            last_status_code AS LastStatusCode, last_error AS LastError, created_at AS CreatedAt, delivered_at AS DeliveredAt
        FROM webhook_deliveries WHERE tenant_id = @TenantId AND run_id = @RunId ORDER BY id
        """;

    public static async Task<IReadOnlyList<WebhookDeliveryRow>> ForRunAsync(IDbConnection connection, string tenantId, string runId) =>
        (await connection.QueryAsync<WebhookDeliveryRow>(SelectForRun, new { TenantId = tenantId, RunId = runId })).ToList();

    private const string RecordAttempt = """
        UPDATE webhook_deliveries SET status = @Status, attempts = attempts + 1, next_attempt_at = @NextAttemptAt,
            last_status_code = @StatusCode, last_error = @Error, delivered_at = @DeliveredAt
        WHERE id = @Id AND status = 'pending'
        """;

    public static Task RecordAttemptAsync(IDbConnection connection, IDbTransaction tx, long id, string status,
        DateTimeOffset nextAttemptAt, int? statusCode, string? error, DateTimeOffset? deliveredAt) =>
        connection.ExecuteAsync(RecordAttempt, new
        {
            Id = id, Status = status, NextAttemptAt = DbTime.ToDb(nextAttemptAt), StatusCode = statusCode,
            Error = error, DeliveredAt = DbTime.ToDb(deliveredAt),
        }, tx);

    private const string DeleteOfRuns = "DELETE FROM webhook_deliveries WHERE tenant_id = @Tenant AND run_id IN @Ids";

    // An event's deliveries (run_id ''), sent or given up, older than the cutoff: by ix_webhook_deliveries_events.
    private const string DeleteOldEvents = "DELETE FROM webhook_deliveries WHERE run_id = '' AND created_at < @Cutoff AND status <> 'pending'";

    /// Retention: a purged run's deliveries go with it (each payload is a copy of the run), pending ones too.
    Task IRunPurgeListener.BeforeDeleteAsync(DbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs, CancellationToken ct) =>
        DeleteOfRunsAsync(connection, tx, runs, ct);

    /// The deliveries of runs being deleted (by retention, or one by `ArtifactStore.DeleteRunAsync`), in the delete's
    /// transaction.
    public async Task DeleteOfRunsAsync(IDbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs, CancellationToken ct)
    {
        foreach (var tenant in runs.GroupBy(r => r.TenantId, StringComparer.Ordinal))
            await connection.ExecuteAsync(new CommandDefinition(dialect.Lists(DeleteOfRuns),
                new { Tenant = tenant.Key, Ids = tenant.Select(r => r.Id).ToArray() }, tx, cancellationToken: ct));
    }

    /// Retention: the deliveries of alert events older than the cutoff, once sent or given up.
    async Task<bool> IRunPurgeListener.PurgeOlderAsync(DbConnection connection, IDbTransaction tx, string cutoff, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition(DeleteOldEvents, new { Cutoff = cutoff }, tx, cancellationToken: ct));
        return false;
    }

    /// Retention's deletes, each with the index it goes by (the plan tests').
    public static IEnumerable<(string What, string Sql, object Parameters, string Index)> RetentionStatements(ISqlDialect dialect) =>
    [
        ("a purged run's deliveries", dialect.Lists(DeleteOfRuns), new { Tenant = "acme", Ids = new[] { "r1", "r2" } }, "ix_webhook_deliveries_run"),
        ("old event deliveries", DeleteOldEvents, new { Cutoff = "2026-11-01T00:00:00.000Z" }, "ix_webhook_deliveries_events"),
    ];

    /// `sha256=<hex HMAC-SHA256 of the body keyed by the secret>`.
    public static string Sign(string? secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret ?? ""), body));
}
