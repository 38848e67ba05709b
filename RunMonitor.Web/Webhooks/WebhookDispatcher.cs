using System.Net.Http.Headers;
using System.Text;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Webhooks;

/// Sends queued webhook deliveries, signed, retrying failures with exponential back-off. It runs
/// apart from ingest, so a slow or dead receiver delays only its own deliveries.
public sealed class WebhookDispatcher(Database database, WebhookOutbox outbox, IHttpClientFactory httpClients,
    TimeProvider time, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    public const int MaxAttempts = 10;
    private static readonly TimeSpan FirstBackOff = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxBackOff = TimeSpan.FromHours(1);
    private const int BatchSize = 20;

    /// How long a claimed delivery is held for its sender: well past the HTTP timeout (10 s). A dispatcher
    /// that dies mid-send leaves its claims to be taken again when this runs out, so a receiver may get a
    /// delivery twice (at-least-once; `X-RunMonitor-Delivery` lets it tell), never zero times.
    public static readonly TimeSpan ClaimPeriod = TimeSpan.FromMinutes(2);

    /// 5 s, 10 s, 20 s … capped at an hour.
    public static TimeSpan BackOff(long attemptsSoFar) =>
        TimeSpan.FromTicks(Math.Min(MaxBackOff.Ticks, FirstBackOff.Ticks * (1L << (int)Math.Min(attemptsSoFar, 20))));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                var due = await ClaimAsync(database, time.GetUtcNow(), stoppingToken);
                await Task.WhenAll(due.Select(d => SendAsync(d, stoppingToken)));
                sent = due.Count;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Webhook dispatcher pass failed; retrying");
            }
            if (sent == 0)
            {
                try { await outbox.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// One pass's work, claimed in a write transaction so that dispatchers on several instances never take the same delivery.
    public static async Task<IReadOnlyList<WebhookDeliveryRow>> ClaimAsync(Database database, DateTimeOffset now, CancellationToken ct)
    {
        // Most passes find nothing due: a read says so without taking the writer (SQLite's one writer) every second.
        await using (var connection = await database.OpenAsync(ct))
            if (!await WebhookOutbox.AnyDueAsync(connection, now)) return [];
        return await database.WriteAsync((connection, tx) => WebhookOutbox.ClaimDueAsync(database.Dialect, connection, tx, now, ClaimPeriod, BatchSize), ct);
    }

    private async Task SendAsync(WebhookDeliveryRow delivery, CancellationToken ct)
    {
        var hooks = outbox.Webhooks;
        var hook = delivery.WebhookIndex < hooks.Count && hooks[(int)delivery.WebhookIndex].Url == delivery.Url
            ? hooks[(int)delivery.WebhookIndex]
            : null;
        int? statusCode = null;
        string? error = null;
        if (hook is null) error = "the webhook is no longer configured";
        else
        {
            try
            {
                var body = Encoding.UTF8.GetBytes(delivery.Payload);
                using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                request.Headers.TryAddWithoutValidation(WebhookOutbox.SignatureHeader, WebhookOutbox.Sign(hook.Secret, body));
                request.Headers.TryAddWithoutValidation("X-RunMonitor-Event", delivery.Event);
                request.Headers.TryAddWithoutValidation("X-RunMonitor-Delivery", delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, ct);
                statusCode = (int)response.StatusCode;
                if (!response.IsSuccessStatusCode) error = $"receiver answered {statusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                error = e is TaskCanceledException ? "receiver did not answer in time" : e.Message;
            }
        }

        var now = time.GetUtcNow();
        var attempts = delivery.Attempts + 1;
        string status;
        if (error is null)
        {
            status = WebhookOutbox.Delivered;
            logger.LogInformation("Webhook {Event} for run {RunId} delivered to {Url} (attempt {Attempt})", delivery.Event, delivery.RunId, delivery.Url, attempts);
        }
        else if (hook is null || attempts >= MaxAttempts)
        {
            status = WebhookOutbox.Failed;
            logger.LogError("Webhook {Event} for run {RunId} to {Url} given up after {Attempts} attempts: {Error}", delivery.Event, delivery.RunId, delivery.Url, attempts, error);
        }
        else
        {
            status = WebhookOutbox.Pending;
            logger.LogWarning("Webhook {Event} for run {RunId} to {Url} failed (attempt {Attempt}): {Error}; retrying in {BackOff}", delivery.Event, delivery.RunId, delivery.Url, attempts, error, BackOff(delivery.Attempts));
        }
        await database.WriteAsync(async (connection, tx) =>
        {
            await WebhookOutbox.RecordAttemptAsync(connection, tx, delivery.Id, status, now + BackOff(delivery.Attempts),
                statusCode, error, error is null ? now : null);
            return 0;
        }, CancellationToken.None);
    }
}
