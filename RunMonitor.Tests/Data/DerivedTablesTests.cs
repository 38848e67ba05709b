using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// The counters and rollups the triggers keep must always equal what the runs say, whatever wrote them.
public class DerivedTablesTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    // Kept: summed over the rows of a key (PostgreSQL keeps a key's counts in shards, migration Postgres/0010).
    internal const string CountsKept = "SELECT tenant_id, workflow_name, status, SUM(n) FROM run_counts GROUP BY 1, 2, 3 HAVING SUM(n) <> 0 ORDER BY 1, 2, 3";
    internal const string CountsTrue = "SELECT tenant_id, workflow_name, status, COUNT(*) FROM runs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";

    internal const string RollupsKept = """
        SELECT tenant_id, hour, status, dry, SUM(runs), SUM(insights), SUM(cost_usd), SUM(tokens_input), SUM(tokens_output),
               SUM(duration_sum), SUM(duration_count)
        FROM run_rollups GROUP BY 1, 2, 3, 4 HAVING SUM(runs) <> 0 ORDER BY 1, 2, 3, 4
        """;
    internal const string RollupsTrue = """
        SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, COUNT(*), COALESCE(SUM(insights_created), 0),
               TOTAL(cost_usd), COALESCE(SUM(tokens_input), 0), COALESCE(SUM(tokens_output), 0),
               COALESCE(SUM(duration_ms), 0), COUNT(duration_ms)
        FROM runs GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        """;

    internal const string DailyKept = """
        SELECT tenant_id, day, workflow_name, model_name, status, SUM(runs), SUM(usage_runs), SUM(estimated_runs), SUM(cost_usd),
               SUM(tokens_input), SUM(tokens_output)
        FROM run_daily GROUP BY 1, 2, 3, 4, 5 HAVING SUM(runs) <> 0 ORDER BY 1, 2, 3, 4, 5
        """;
    internal const string DailyTrue = """
        SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COUNT(*),
               SUM(tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL), SUM(cost_estimated),
               TOTAL(cost_usd), COALESCE(SUM(tokens_input), 0), COALESCE(SUM(tokens_output), 0)
        FROM runs GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        """;

    // The trigram index with the runs past NameIndexer's mark (the way a search reads it) must find what LIKE finds.
    private const string NamesKept = """
        SELECT COUNT(*) FROM (SELECT rowid FROM runs_name_fts WHERE runs_name_fts MATCH '"Friday"'
                              UNION ALL SELECT pk FROM runs WHERE pk > (SELECT indexed_through FROM runs_name_fts_mark) AND name LIKE '%Friday%')
        """;
    private const string NamesTrue = "SELECT COUNT(*) FROM runs WHERE name LIKE '%Friday%'";

    // PostgreSQL sums no booleans; its trigram index is PostgreSQL's own to keep.
    internal const string RollupsKeptPostgres = """
        SELECT tenant_id, hour, status, dry, SUM(runs), SUM(insights), SUM(cost_usd), SUM(tokens_input), SUM(tokens_output),
               SUM(duration_sum), SUM(duration_count)
        FROM run_rollups GROUP BY 1, 2, 3, 4 HAVING SUM(runs) <> 0 ORDER BY 1, 2, 3, 4
        """;
    internal const string RollupsTruePostgres = """
        SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, COUNT(*), COALESCE(SUM(insights_created), 0),
               COALESCE(SUM(cost_usd), 0), COALESCE(SUM(tokens_input), 0), COALESCE(SUM(tokens_output), 0),
               COALESCE(SUM(duration_ms), 0), COUNT(duration_ms)
        FROM runs GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        """;
    internal const string DailyKeptPostgres = """
        SELECT tenant_id, day, workflow_name, model_name, status, SUM(runs), SUM(usage_runs), SUM(estimated_runs), SUM(cost_usd),
               SUM(tokens_input), SUM(tokens_output)
        FROM run_daily GROUP BY 1, 2, 3, 4, 5 HAVING SUM(runs) <> 0 ORDER BY 1, 2, 3, 4, 5
        """;
    internal const string DailyTruePostgres = """
        SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COUNT(*),
               SUM(CASE WHEN tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL THEN 1 ELSE 0 END), SUM(cost_estimated),
               COALESCE(SUM(cost_usd), 0), COALESCE(SUM(tokens_input), 0), COALESCE(SUM(tokens_output), 0)
        FROM runs GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        """;

    /// Each derived table's rows as kept beside the same sums over runs, per store (the seed's and the schema's tests
    /// compare the same).
    internal static readonly (string Kept, string Truth, string What)[] SqliteTables =
        [(CountsKept, CountsTrue, "run_counts"), (RollupsKept, RollupsTrue, "run_rollups"), (DailyKept, DailyTrue, "run_daily")];
    internal static readonly (string Kept, string Truth, string What)[] PostgresTables =
        [(CountsKept, CountsTrue, "run_counts"), (RollupsKeptPostgres, RollupsTruePostgres, "run_rollups"), (DailyKeptPostgres, DailyTruePostgres, "run_daily")];

    private async Task AssertConsistentAsync()
    {
        var database = factory.Services.GetRequiredService<Database>();
        await using var connection = await database.OpenAsync();
        var checks = database.IsPostgres ? PostgresTables : [.. SqliteTables, (NamesKept, NamesTrue, "runs_name_fts")];
        foreach (var (kept, truth, what) in checks)
        {
            DerivedRows.AssertSame(await DerivedRows.ReadAsync(connection, kept), await DerivedRows.ReadAsync(connection, truth), what);
        }
        if (!database.IsPostgres) await RunMonitor.Tests.Runs.NameIndexerTests.AssertIndexMatchesRunsAsync(factory.Services);
    }

    [Fact]
    public async Task Triggers_AfterCreatesUpdatesAndDeletes_MatchTheRuns()
    {
        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var run = await _client.CreateRunAsync(new
            {
                workflowName = i % 3 == 0 ? "wf-a" : "wf-b", tenantId = i % 2 == 0 ? "t1" : "t2",
                name = i % 4 == 0 ? "Black Friday Blast" : "Weekly digest",
                createdAt = new DateTimeOffset(2026, 11, 20 - i % 3, 10 + i, 0, 0, TimeSpan.Zero).ToString("O"),
                steps = new[] { new { stepId = "a" } },
            });
            ids.Add(run.GetProperty("id").GetString()!);
        }
        await AssertConsistentAsync();

        for (var i = 0; i < ids.Count; i++)
        {
            await _client.PatchJsonAsync($"/api/runs/{ids[i]}", new { status = "running" });
            await _client.PutAsJsonAsync($"/api/runs/{ids[i]}/steps/a", new { status = "completed" });
            factory.Clock.Advance(TimeSpan.FromSeconds(3));
            var end = (i % 4) switch { 0 => "completed", 1 => "failed", 2 => "partial", _ => "dry" };
            var response = await _client.PatchJsonAsync($"/api/runs/{ids[i]}", new
            {
                status = end,
                metrics = new { insightsCreated = i },
                usage = new { model = i % 2 == 0 ? "gpt-4o-mini" : "claude-sonnet-4-5", tokensInput = 1000 * i, tokensOutput = 10 * i },
            });
            Assert.True(response.IsSuccessStatusCode);
        }
        await _client.PatchJsonAsync($"/api/runs/{ids[0]}", new { status = "completed", usage = new { costUsd = 1.25 } });
        await AssertConsistentAsync();

        var database = factory.Services.GetRequiredService<Database>();
        await database.WriteAsync((c, tx) => c.ExecuteAsync(c.Lists("DELETE FROM runs WHERE id IN @Ids"), new { Ids = ids.Take(5).ToArray() }, tx));
        await AssertConsistentAsync();
    }
}

/// The same with the app on PostgreSQL, whose plpgsql triggers keep the derived tables there.
public sealed class DerivedTablesTestsOnPostgres(PostgresFactory factory) : DerivedTablesTests(factory), IClassFixture<PostgresFactory>;
