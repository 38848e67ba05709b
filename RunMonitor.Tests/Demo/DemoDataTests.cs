using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Demo;

/// `--demo` fills an empty store with a week of history, retries among it: each retry is what RunMonitor's retry makes
/// of a failed run (in its tenant, with its steps), run after that run ended.
public sealed class DemoDataTests : IDisposable
{
    private readonly DemoFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Demo_EmptyStore_SeedsHistoryWithRetriesWhoseStepsAreInTheirTenant()
    {
        var client = _factory.CreateClient();

        var retries = new List<(string Id, string Tenant)>();
        for (var offset = 0; retries.Count < 3 && offset < 2000; offset += 100)
        {
            var page = (await client.GetJsonAsync($"/api/runs?limit=100&offset={offset}"))["items"]!.AsArray();
            if (page.Count == 0) break;
            retries.AddRange(page.Where(r => r!["retryOf"] is not null).Select(r => (r!["id"]!.GetValue<string>(), r["tenantId"]!.GetValue<string>())));
        }

        Assert.NotEmpty(retries);
        foreach (var (id, tenant) in retries)
            Assert.NotEmpty((await client.GetJsonAsync($"/api/runs/{id}/steps?tenant={tenant}")).AsArray());
    }

    // Every seeded retry beside its original, found in the retry's own tenant, and how it was asked for.
    private const string SelectRetries = """
        SELECT retry.id AS Id, retry.tenant_id AS Tenant, retry.workflow_name AS Workflow, retry.name AS Name,
               retry.trigger_payload AS Payload, retry.layer_hash AS LayerHash, retry.created_at AS CreatedAt,
               old.id AS OldId, old.workflow_name AS OldWorkflow, old.name AS OldName, old.trigger_payload AS OldPayload,
               old.layer_hash AS OldLayerHash, old.completed_at AS OldCompletedAt,
               (SELECT detail FROM run_activity a WHERE a.tenant_id = retry.tenant_id AND a.run_id = retry.id AND a.action = 'retry-of') AS How
        FROM runs retry LEFT JOIN runs old ON old.tenant_id = retry.tenant_id AND old.id = retry.retry_of
        WHERE retry.retry_of IS NOT NULL
        ORDER BY retry.created_at
        """;

    private sealed record SeededRetry(string Id, string Tenant, string Workflow, string Name, string? Payload, string? LayerHash, string CreatedAt,
        string? OldId, string? OldWorkflow, string? OldName, string? OldPayload, string? OldLayerHash, string? OldCompletedAt, string? How);

    private const string SelectSteps = """
        SELECT step_id AS StepId, skill_id AS SkillId, status AS Status, started_at AS StartedAt, cache_hit AS CacheHit,
               input AS Input, output AS Output
        FROM steps WHERE tenant_id = @Tenant AND run_id = @Id ORDER BY seq
        """;

    private sealed record SeededStep(string StepId, string? SkillId, string Status, string? StartedAt, long CacheHit, string? Input, string? Output);

    /// A seeded retry is what the product's retry makes of its original (same tenant, workflow, name, payload and
    /// steps plan; from the failed step, the steps before it carry their results), made after the original ended.
    [Fact]
    public async Task Demo_SeededRetries_AreRetriesOfTheirOriginals()
    {
        _factory.CreateClient();
        await using var connection = await _factory.Services.GetRequiredService<Database>().OpenAsync();

        var retries = (await connection.QueryAsync<SeededRetry>(SelectRetries)).ToList();

        Assert.NotEmpty(retries);
        var kinds = new HashSet<string>();
        foreach (var retry in retries)
        {
            Assert.True(retry.OldId is not null, $"{retry.Id}: its original is not in its tenant {retry.Tenant}");
            Assert.Equal((retry.OldWorkflow, retry.OldName, retry.OldPayload, retry.OldLayerHash), (retry.Workflow, retry.Name, retry.Payload, retry.LayerHash));
            Assert.True(string.CompareOrdinal(retry.CreatedAt, retry.OldCompletedAt) > 0,
                $"{retry.Id} was created at {retry.CreatedAt}, before its original ended at {retry.OldCompletedAt}");
            var steps = (await connection.QueryAsync<SeededStep>(SelectSteps, new { retry.Tenant, retry.Id })).ToList();
            var oldSteps = (await connection.QueryAsync<SeededStep>(SelectSteps, new { retry.Tenant, Id = retry.OldId })).ToList();
            Assert.Equal(oldSteps.Select(s => (s.StepId, s.SkillId)), steps.Select(s => (s.StepId, s.SkillId)));
            Assert.All(steps.Where(s => s.Input is not null), s => Assert.Contains($"\"tenant\":\"{retry.Tenant}\"", s.Input!));
            if (retry.How == $"retry of {retry.OldId} (whole)")
            {
                kinds.Add("whole");
                Assert.DoesNotContain(steps, s => s.Status == StepStatus.Completed && s.StartedAt is null);
            }
            else
            {
                var failedAt = oldSteps.FindIndex(s => s.Status == StepStatus.Failed);
                Assert.Equal($"retry of {retry.OldId} (from failed step {oldSteps[failedAt].StepId})", retry.How);
                kinds.Add("from failed step");
                // The steps before the failed one are the original's results, carried as cache hits that did not run again.
                Assert.All(steps.Take(failedAt).Zip(oldSteps), pair => Assert.Equal(
                    (StepStatus.Completed, (string?)null, 1L, pair.Second.Input, pair.Second.Output),
                    (pair.First.Status, pair.First.StartedAt, pair.First.CacheHit, pair.First.Input, pair.First.Output)));
                Assert.NotNull(steps[failedAt].StartedAt);
            }
        }
        Assert.Equal(["from failed step", "whole"], kinds.Order());
    }

    // A run's errors, and its failed step, that name no step of that run.
    private const string SelectStrayNodes = """
        SELECT r.id || ' (' || r.workflow_name || '): ' || e.node FROM run_errors e
        JOIN runs r ON r.tenant_id = e.tenant_id AND r.id = e.run_id
        WHERE e.node IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.tenant_id = e.tenant_id AND s.run_id = e.run_id AND s.step_id = e.node)
        UNION ALL
        SELECT r.id || ' (' || r.workflow_name || '): ' || r.error_failed_step_id FROM runs r
        WHERE r.error_failed_step_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.tenant_id = r.tenant_id AND s.run_id = r.id AND s.step_id = r.error_failed_step_id)
        """;

    private const string SelectRunSteps = """
        SELECT r.tenant_id AS Tenant, r.id AS Id, r.workflow_name AS Workflow, s.step_id AS StepId
        FROM runs r JOIN steps s ON s.tenant_id = r.tenant_id AND s.run_id = r.id
        ORDER BY r.tenant_id, r.id, s.seq
        """;

    /// Every seeded run has its workflow's steps, and its errors name steps of that run.
    [Fact]
    public async Task Demo_SeededRuns_HaveTheirWorkflowsStepsAndErrorsNameThem()
    {
        _factory.CreateClient();
        await using var connection = await _factory.Services.GetRequiredService<Database>().OpenAsync();

        var plans = (await connection.QueryAsync<(string Tenant, string Id, string Workflow, string StepId)>(SelectRunSteps))
            .GroupBy(s => (s.Tenant, s.Id, s.Workflow), s => s.StepId).ToList();
        var stray = await connection.QueryAsync<string>(SelectStrayNodes);

        var catalog = DemoCatalog.Workflows.ToDictionary(w => w.Name, w => w.Steps.Select(s => s.StepId).ToList());
        Assert.NotEmpty(plans);
        Assert.All(plans, plan => Assert.Equal(catalog[plan.Key.Workflow], plan.ToList()));
        Assert.Empty(stray);
    }

    [Fact]
    public async Task Demo_SeededWeek_WeekdaysBusierThanTheWeekend()
    {
        var client = _factory.CreateClient();
        var today = _factory.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime.Date;
        var perDay = new Dictionary<DateTime, int>();
        for (var offset = 0; offset < 5000; offset += 100)
        {
            var page = (await client.GetJsonAsync($"/api/runs?limit=100&offset={offset}"))["items"]!.AsArray();
            if (page.Count == 0) break;
            foreach (var run in page)
            {
                var day = DateTimeOffset.Parse(run!["createdAt"]!.GetValue<string>()).UtcDateTime.Date;
                perDay[day] = perDay.GetValueOrDefault(day) + 1;
            }
        }

        // The seven whole days before today: five weekdays and a weekend.
        var week = Enumerable.Range(1, 7).Select(d => today.AddDays(-d)).ToList();
        var weekend = week.Where(d => d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday).Select(d => perDay.GetValueOrDefault(d)).ToList();
        var weekdays = week.Where(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).Select(d => perDay.GetValueOrDefault(d)).ToList();
        Assert.Equal(2, weekend.Count);
        Assert.True(weekdays.Min() > weekend.Max(), $"weekdays {string.Join(", ", weekdays)}; weekend {string.Join(", ", weekend)}");
    }

    [Fact]
    public async Task Demo_SeededRuns_TellTheirStoryInTheirActivity()
    {
        var client = _factory.CreateClient();
        var finished = (await client.GetJsonAsync("/api/runs?status=failed&limit=1"))["items"]!.AsArray().Single()!;
        var retry = (await client.GetJsonAsync("/api/runs?limit=100"))["items"]!.AsArray().First(r => r!["retryOf"] is not null)!;
        async Task<string[]> ActionsAsync(string id, string tenant) =>
            (await client.GetJsonAsync($"/api/runs/{id}/activity?tenant={tenant}")).AsArray().Select(a => a!["action"]!.GetValue<string>()).ToArray();

        // A failed run that was retried since goes on to say so.
        Assert.Equal(["created", "claimed", "failed"], (await ActionsAsync(finished["id"]!.GetValue<string>(), finished["tenantId"]!.GetValue<string>())).Take(3));
        Assert.Equal("retry-of", (await ActionsAsync(retry["id"]!.GetValue<string>(), retry["tenantId"]!.GetValue<string>()))[0]);
        Assert.Equal(["created", "claimed", "failed", "retried"], await ActionsAsync(retry["retryOf"]!.GetValue<string>(), retry["tenantId"]!.GetValue<string>()));
    }

    /// The demo's worker serves the demo's workflows in the demo's tenants: a run an engine queued through the API for a
    /// workflow of its own, or in a tenant of its own, waits for that engine's worker (it was claimed, its context
    /// overwritten, and it failed when the demo worker dropped it: "worker lease expired").
    [Fact]
    public async Task DemoWorker_EnginesOwnQueuedRuns_LeftForTheirWorkers()
    {
        var client = _factory.CreateClient();
        // The oldest queued runs, the engines' first: a worker claiming any run would take them before the demo's.
        await client.CreateRunAsync(new { id = "engine-wf", tenantId = "acme", workflowName = "audwf", createdAt = "2026-11-01T00:00:00Z", context = new { mine = true } });
        await client.CreateRunAsync(new { id = "engine-tenant", tenantId = "default", workflowName = "channel-digest", createdAt = "2026-11-01T00:00:01Z" });
        await client.CreateRunAsync(new { id = "demo-own", tenantId = "acme", workflowName = "channel-digest", createdAt = "2026-11-01T00:00:02Z" });

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((string?)(await client.GetJsonAsync("/api/runs/demo-own?tenant=acme"))["status"] == "queued" && DateTime.UtcNow < deadline)
            await Task.Delay(200);

        // Claimed by the demo's worker (a run without steps it ends at once, so its activity says so, not its lease).
        var claimed = (await client.GetJsonAsync("/api/runs/demo-own/activity?tenant=acme")).AsArray().Single(a => (string?)a!["action"] == "claimed")!;
        Assert.Equal(DemoWorker.WorkerName, (string?)claimed["actor"]);
        var workflow = await client.GetJsonAsync("/api/runs/engine-wf?tenant=acme");
        var tenant = await client.GetJsonAsync("/api/runs/engine-tenant?tenant=default");
        Assert.Equal("queued", (string?)workflow["status"]);
        Assert.Equal("queued", (string?)tenant["status"]);
        Assert.Null(workflow["leaseOwner"]);
        Assert.True((bool)workflow["context"]!["mine"]!);
    }

    /// The demo watches itself with a rule of every kind, shown by `/api/alerts` and `/admin`.
    [Fact]
    public async Task Demo_WithoutAlertRules_WatchesWithItsOwn()
    {
        var client = _factory.CreateClient();

        var rules = (await client.GetJsonAsync("/api/alerts"))["rules"]!.AsArray();

        Assert.Equal(["acme-daily-spend", "failing-runs", "runs-stuck", "queue-backlog", "nightly-silent"], rules.Select(r => r!["name"]!.GetValue<string>()));
        Assert.Equal(["costPerDay", "failureRate", "stuckRuns", "queueDepth", "silence"], rules.Select(r => r!["kind"]!.GetValue<string>()));
        var admin = await client.GetDocumentAsync("/admin");
        Assert.Equal(5, admin.QuerySelectorAll("#alert-rules tbody tr").Length);
    }

    /// Rules of the configuration's own replace the demo's.
    [Fact]
    public async Task Demo_WithAlertRulesConfigured_KeepsThoseAlone()
    {
        using var factory = new DemoFactory(new()
        {
            ["RunMonitor:Alerts:0:Name"] = "mine", ["RunMonitor:Alerts:0:Kind"] = "queueDepth", ["RunMonitor:Alerts:0:Threshold"] = "3",
        });

        var rules = (await factory.CreateClient().GetJsonAsync("/api/alerts"))["rules"]!.AsArray();

        Assert.Equal(["mine"], rules.Select(r => r!["name"]!.GetValue<string>()));
    }

    private sealed class DemoFactory(Dictionary<string, string?>? more = null) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings =>
            new Dictionary<string, string?>(more ?? []) { ["RunMonitor:Demo"] = "true" };
    }
}
