using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Alerts;

/// Two instances on one PostgreSQL store evaluating at once, again and again: each change of a rule is recorded once
/// and queued for each receiver once (the evaluators take turns through the dialect's advisory lock, and each sees
/// the state the other wrote).
public sealed class AlertsTwoInstanceTests : TwoInstances<AlertsTwoInstanceTests.Instance>
{
    public sealed class Instance(string database) : RunMonitorFactory(database)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Alerts:IntervalSeconds"] = "3600",
            ["RunMonitor:Alerts:0:Name"] = "shared-failures", ["RunMonitor:Alerts:0:Kind"] = "failureRate",
            ["RunMonitor:Alerts:0:Threshold"] = "0.5", ["RunMonitor:Alerts:0:Workflow"] = "wf-two",
            // Nothing listens on port 9: deliveries stay queued, which is all this test counts.
            ["RunMonitor:Webhooks:0:Url"] = "http://127.0.0.1:9/alerts",
            ["RunMonitor:Webhooks:0:Secret"] = "two",
        };
    }

    protected override Instance Start(string database) => new(database);

    private async Task RaceAsync(int rounds)
    {
        var a = A.Services.GetRequiredService<AlertEvaluator>();
        var b = B.Services.GetRequiredService<AlertEvaluator>();
        for (var i = 0; i < rounds; i++) await Task.WhenAll(a.EvaluateAsync(), b.EvaluateAsync(), a.EvaluateAsync(), b.EvaluateAsync());
    }

    private async Task<(List<string> Events, long Deliveries)> RecordedAsync()
    {
        await using var connection = await A.Services.GetRequiredService<Database>().OpenAsync();
        var events = (await connection.QueryAsync<string>("SELECT state FROM alert_events WHERE rule = 'shared-failures' ORDER BY id")).ToList();
        var deliveries = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_deliveries WHERE event LIKE 'alert.%'");
        return (events, deliveries);
    }

    [Fact]
    public async Task BothEvaluateAtOnce_OneFiringAndOneResolvedEvent_EachQueuedOnce()
    {
        var viaA = A.CreateClient();
        var viaB = B.CreateClient();
        for (var i = 0; i < 3; i++) await viaA.CreateRunAsync(new { workflowName = "wf-two", status = "failed" });
        for (var i = 0; i < 2; i++) await viaB.CreateRunAsync(new { workflowName = "wf-two", status = "completed" });

        await RaceAsync(5);
        var fired = await RecordedAsync();
        for (var i = 0; i < 2; i++) await viaB.CreateRunAsync(new { workflowName = "wf-two", status = "completed" });
        await RaceAsync(5);
        var resolved = await RecordedAsync();

        Assert.Equal(["firing"], fired.Events);
        Assert.Equal(1, fired.Deliveries);
        Assert.Equal(["firing", "resolved"], resolved.Events);
        Assert.Equal(2, resolved.Deliveries);
    }
}
