using System.Reflection;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Alerts;

/// Two instances on one PostgreSQL store, one evaluation each, interleaved so that the one that began first takes the
/// lock second, after failures arrived and the other recorded `firing`: the late one finds the rule firing as it is
/// and records nothing (no `resolved` from what it saw before it waited, then `firing` again next interval).
public sealed class AlertsStaleInstanceTests : TwoInstances<AlertsStaleInstanceTests.Instance>
{
    // The instances run no rules of their own (their hosted evaluators stay idle): the test's evaluators are the only ones.
    public sealed class Instance(string database) : RunMonitorFactory(database)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            // Nothing listens on port 9: deliveries stay queued, which is all this test counts.
            ["RunMonitor:Webhooks:0:Url"] = "http://127.0.0.1:9/alerts",
            ["RunMonitor:Webhooks:0:Secret"] = "stale",
        };
    }

    protected override Instance Start(string database) => new(database);

    private static readonly AlertRuleSet Rules = new(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["RunMonitor:Alerts:IntervalSeconds"] = "3600",
        ["RunMonitor:Alerts:0:Name"] = "stale-failures", ["RunMonitor:Alerts:0:Kind"] = "failureRate",
        ["RunMonitor:Alerts:0:Threshold"] = "0.5", ["RunMonitor:Alerts:0:Workflow"] = "wf-stale",
    }).Build());

    /// The store's dialect, but the first read of its `LockKey` (before the evaluator takes its lock) waits for the test.
    public class GatedDialect : DispatchProxy
    {
        private ISqlDialect _inner = null!;
        private int _asked;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static (ISqlDialect Dialect, GatedDialect Gated) Around(ISqlDialect inner)
        {
            var dialect = Create<ISqlDialect, GatedDialect>();
            var gated = (GatedDialect)(object)dialect;
            gated._inner = inner;
            return (dialect, gated);
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == "get_" + nameof(ISqlDialect.LockKey) && Interlocked.Exchange(ref _asked, 1) == 0)
            {
                Reached.TrySetResult();
                Gate.Task.Wait();
            }
            return targetMethod.Invoke(_inner, args);
        }
    }

    [Fact]
    public async Task Evaluate_StaleInstanceTakesTheLockSecond_NoResolvedAfterTheOthersFiring()
    {
        var (dialect, gated) = GatedDialect.Around(A.Services.GetRequiredService<ISqlDialect>());
        var late = ActivatorUtilities.CreateInstance<AlertEvaluator>(A.Services, Rules, dialect);
        var other = ActivatorUtilities.CreateInstance<AlertEvaluator>(B.Services, Rules);
        var viaB = B.CreateClient();
        await viaB.CreateRunAsync(new { workflowName = "wf-stale", status = "failed" });
        for (var i = 0; i < 2; i++) await viaB.CreateRunAsync(new { workflowName = "wf-stale", status = "completed" });
        Assert.Empty(await other.EvaluateAsync());

        // The late evaluation starts (1 failed of 3: clear) and waits before its lock; failures arrive and the other fires.
        var waiting = Task.Run(() => late.EvaluateAsync());
        await gated.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 3; i++) await viaB.CreateRunAsync(new { workflowName = "wf-stale", status = "failed" });
        var fired = await other.EvaluateAsync();
        gated.Gate.SetResult();
        var lateEvents = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["firing"], fired.Select(e => e.State));
        Assert.Empty(lateEvents);
        await using var connection = await A.Services.GetRequiredService<Database>().OpenAsync();
        Assert.Equal(["firing"], await connection.QueryAsync<string>("SELECT state FROM alert_events ORDER BY id"));
        Assert.Equal("firing", await connection.ExecuteScalarAsync<string>("SELECT state FROM alert_states WHERE rule = 'stale-failures'"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhook_deliveries WHERE event LIKE 'alert.%'"));
    }
}
