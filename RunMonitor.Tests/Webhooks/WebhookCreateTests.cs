using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Tests.Webhooks;

/// A run reported already finished (an engine that reports once, at the end) is a terminal transition too: its event is
/// queued with it, by a single POST and by a batch's run line, on both stores; a run that ended more than a day ago is
/// history being imported and queues nothing.
public class WebhookCreateTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private async Task<IReadOnlyList<WebhookDeliveryRow>> DeliveriesAsync(string runId)
    {
        await using var connection = await fixture.Factory.Services.GetRequiredService<Database>().OpenAsync();
        return await WebhookOutbox.ForRunAsync(connection, Caller.DefaultTenant, runId);
    }

    private string Ago(TimeSpan span) => fixture.Factory.Clock.GetUtcNow().Subtract(span).ToString("O", CultureInfo.InvariantCulture);

    [Fact]
    public async Task CreatedFinished_QueuesItsEvent_OneEndedOverADayAgoOrNotFinished_Nothing()
    {
        var client = fixture.Factory.CreateClient();
        var failed = (await client.CreateRunAsync(new { workflowName = "hooked-created", status = "failed", error = new { message = "boom" } })).GetProperty("id").GetString()!;
        var late = (await client.CreateRunAsync(new { workflowName = "hooked-created", status = "completed", completedAt = Ago(TimeSpan.FromHours(20)) })).GetProperty("id").GetString()!;
        var history = (await client.CreateRunAsync(new { workflowName = "hooked-created", status = "completed", completedAt = Ago(TimeSpan.FromDays(3)) })).GetProperty("id").GetString()!;
        var running = (await client.CreateRunAsync(new { workflowName = "hooked-created", status = "running" })).GetProperty("id").GetString()!;

        var deliveries = await DeliveriesAsync(failed);
        Assert.Equal([0, 1], deliveries.Select(d => d.WebhookIndex).Order());
        Assert.All(deliveries, d => Assert.Equal("run.failed", d.Event));
        Assert.Contains("\"boom\"", deliveries[0].Payload);
        Assert.Equal(["run.completed", "run.completed"], (await DeliveriesAsync(late)).Select(d => d.Event));
        Assert.Empty(await DeliveriesAsync(history));
        Assert.Empty(await DeliveriesAsync(running));
    }

    [Fact]
    public async Task BatchRunLine_CreatedFinished_QueuesItsEvent_InTheBatchsTransaction()
    {
        var client = fixture.Factory.CreateClient();
        var id = "hooked-batch-" + Guid.NewGuid().ToString("N")[..8];
        var bad = "hooked-batch-" + Guid.NewGuid().ToString("N")[..8];
        var body = $$"""
            {"type":"run","id":"{{id}}","workflowName":"hooked-batch","status":"completed"}
            {"type":"run","id":"{{bad}}","workflowName":"hooked-batch","status":"failed"}
            {"type":"update","id":"{{bad}}","status":"running"}
            """;

        var refused = await client.PostAsync("/api/ingest", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        var applied = await client.PostAsync("/api/ingest", new StringContent(body.Split('\n')[0], Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Empty(await DeliveriesAsync(bad));
        Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        Assert.Equal(["run.completed", "run.completed"], (await DeliveriesAsync(id)).Select(d => d.Event));
    }
}

public sealed class WebhookCreateTestsOnPostgres(PostgresWebhookFixture fixture) : WebhookCreateTests(fixture), IClassFixture<PostgresWebhookFixture>;
