using Dapper;
using Npgsql;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// The PostgreSQL schema (Migrations/Postgres, all of them: 0001 and the shards of 0010): its triggers keep run_counts, run_rollups and run_daily
/// equal to what the runs say, as SQLite's triggers do (DerivedTablesTests), also under concurrent writers
/// on several connections; PostgresDialect.RebuildDerivedSql recomputes them; the list's searches and sorts read
/// an index. Every test gets a fresh database.
public sealed class PostgresSchemaTests : IDisposable
{
    private readonly string _connectionString;

    public PostgresSchemaTests()
    {
        _connectionString = PostgresServer.CreateDatabase();
        using var connection = Open();
        foreach (var (_, _, sql) in MigrationRunner.LoadMigrations(StoreProvider.Postgres)) connection.Execute(sql);
    }

    public void Dispose() => PostgresServer.DropDatabase(_connectionString);

    private NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
        return connection;
    }

    // What the triggers keep (rows counted down to 0 stay, as in SQLite), compared against a fresh GROUP BY over runs
    // as DerivedTablesTests compares them through the app (DerivedTablesTests.PostgresTables).
    private const string CountsKept = DerivedTablesTests.CountsKept;
    private const string RollupsKept = DerivedTablesTests.RollupsKeptPostgres;
    private const string DailyKept = DerivedTablesTests.DailyKeptPostgres;

    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql) =>
        (await connection.QueryAsync(sql)).Select(r => string.Join('|', ((IDictionary<string, object?>)r).Values)).ToList();

    private async Task AssertConsistentAsync(string when)
    {
        await using var connection = Open();
        foreach (var (kept, truth, what) in DerivedTablesTests.PostgresTables)
        {
            var b = await DerivedRows.ReadAsync(connection, truth);
            Assert.True(b.Count > 0, $"{when}: no runs to compare");
            DerivedRows.AssertSame(await DerivedRows.ReadAsync(connection, kept), b, $"{what} ({when})");
        }
    }

    private const string InsertRun = """
        INSERT INTO runs (id, tenant_id, workflow_name, name, status, dry_run, created_at, duration_ms, insights_created,
                          model_name, tokens_input, tokens_output, cost_usd, cost_estimated, updated_at)
        VALUES (@Id, @TenantId, @WorkflowName, @Name, @Status, @DryRun, @CreatedAt, @DurationMs, @InsightsCreated,
                @ModelName, @TokensInput, @TokensOutput, @CostUsd, @CostEstimated, @CreatedAt)
        """;

    private sealed record NewRun(string Id, string TenantId, string WorkflowName, string? Name, string Status, long DryRun,
        string CreatedAt, long? DurationMs, long? InsightsCreated, string? ModelName, long? TokensInput, long? TokensOutput,
        double? CostUsd, long CostEstimated);

    private static string Hour(int day, int hour, int minute = 0) => $"2026-11-{day:00}T{hour:00}:{minute:00}:00.000Z";

    /// A varied run: three tenants, two workflows, two days, several hours, dry or not, with and without usage.
    private static NewRun MakeRun(int i, string status = "queued") => new(
        $"run-{i:0000}", $"t{i % 3}", i % 2 == 0 ? "wf-a" : "wf-b", i % 4 == 0 ? null : $"Nightly sync {i}", status,
        i % 5 == 0 ? 1 : 0, Hour(20 + i % 2, i % 4, i % 60),
        i % 3 == 0 ? null : 1000L * i, i % 4 == 1 ? null : i, i % 6 == 0 ? null : (i % 2 == 0 ? "gpt-4o-mini" : "claude-sonnet-4-5"),
        i % 7 == 0 ? null : 100L * i, i % 7 == 0 ? null : 10L * i, i % 5 == 1 ? null : 0.25 * (i % 9), i % 8 == 0 ? 1 : 0);

    [Fact]
    public async Task Triggers_AfterInsertsUpdatesAndDeletes_MatchTheRuns()
    {
        // Arrange + Act: inserts
        await using var connection = Open();
        var runs = Enumerable.Range(0, 60).Select(i => MakeRun(i)).ToList();
        await connection.ExecuteAsync(InsertRun, runs);
        await AssertConsistentAsync("after inserts");

        // queued -> running -> a terminal status, reporting usage and a duration on the way
        await connection.ExecuteAsync("UPDATE runs SET status = 'running', started_at = created_at WHERE status = 'queued'");
        await AssertConsistentAsync("after queued -> running");
        for (var i = 0; i < runs.Count; i++)
        {
            var end = (i % 4) switch { 0 => "completed", 1 => "failed", 2 => "partial", _ => "dry" };
            await connection.ExecuteAsync("""
                UPDATE runs SET status = @End, duration_ms = @Duration, insights_created = @Insights, model_name = @Model,
                    tokens_input = @Input, tokens_output = @Output, cost_usd = @Cost, cost_estimated = @Estimated
                WHERE id = @Id
                """, new
            {
                runs[i].Id, End = end, Duration = i % 5 == 2 ? (long?)null : 500L + i, Insights = (long)i,
                Model = i % 3 == 0 ? null : "gpt-4o", Input = i % 6 == 1 ? (long?)null : 1000L * i, Output = 7L * i,
                Cost = i % 4 == 3 ? (double?)null : 1.5 + i % 3 * 0.25, Estimated = (long)(i % 2),
            });
        }
        await AssertConsistentAsync("after finishing");

        // Changes the triggers must follow: cost and duration alone, the hour and day of creation, the tenant,
        // the workflow, a dry flag; and one they must ignore (the name).
        await connection.ExecuteAsync("UPDATE runs SET cost_usd = COALESCE(cost_usd, 0) + 2.25, duration_ms = NULL WHERE pk % 4 = 0");
        await connection.ExecuteAsync("UPDATE runs SET duration_ms = 42 WHERE duration_ms IS NULL AND pk % 3 = 0");
        await connection.ExecuteAsync("UPDATE runs SET created_at = '2026-11-22T23:59:59.999Z' WHERE pk % 7 = 0");
        await connection.ExecuteAsync("UPDATE runs SET tenant_id = 't9', workflow_name = 'wf-c' WHERE pk % 11 = 0");
        await connection.ExecuteAsync("UPDATE runs SET dry_run = 1 - dry_run, status = 'completed' WHERE pk % 13 = 0");
        await connection.ExecuteAsync("UPDATE runs SET name = 'renamed', status = status, tokens_input = tokens_input");
        await AssertConsistentAsync("after corrections");

        // Deletes (steps and errors go with them)
        await connection.ExecuteAsync("INSERT INTO steps (tenant_id, run_id, step_id, seq, status, updated_at) SELECT tenant_id, id, 'a', 0, 'completed', created_at FROM runs");
        await connection.ExecuteAsync("DELETE FROM runs WHERE pk % 3 = 1");
        await AssertConsistentAsync("after deletes");
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM steps s WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = s.run_id)"));
    }

    [Fact]
    public async Task Triggers_SumsBeyond64Bits_SaturateInsteadOfFailingTheWrite()
    {
        // Arrange: ingest accepts any 64-bit count; two such runs in one hour overflow a BIGINT sum.
        await using var connection = Open();
        var huge = new[] { 0, 1 }.Select(i => MakeRun(i) with
        {
            Id = $"huge-{i}", TenantId = "t", WorkflowName = "huge", CreatedAt = Hour(20, 10), DryRun = 0, ModelName = "gpt-4o",
            TokensInput = long.MaxValue, TokensOutput = long.MaxValue, InsightsCreated = long.MaxValue, DurationMs = long.MaxValue,
            CostUsd = double.MaxValue,
        });

        // Act: both in one transaction, so both land in its shard (runs.shard) and one row holds their sums
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync(InsertRun, huge, tx);
            await tx.CommitAsync();
        }
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT shard) FROM runs WHERE tenant_id = 't'"));
        await connection.ExecuteAsync("UPDATE runs SET status = 'completed' WHERE tenant_id = 't'");

        // Assert
        var rollup = await connection.QuerySingleAsync<(long Runs, long Tokens, long Insights, long Duration, double Cost)>(
            "SELECT runs, tokens_input, insights, duration_sum, cost_usd FROM run_rollups WHERE tenant_id = 't' AND runs <> 0");
        Assert.Equal((2L, long.MaxValue, long.MaxValue, long.MaxValue, double.MaxValue), rollup);
        var daily = await connection.QuerySingleAsync<(long Runs, long Tokens, double Cost)>(
            "SELECT runs, tokens_output, cost_usd FROM run_daily WHERE tenant_id = 't' AND runs <> 0");
        Assert.Equal((2L, long.MaxValue, double.MaxValue), daily);
        await connection.ExecuteAsync(PostgresDialect.RebuildDerivedSql);
        Assert.Equal(rollup, await connection.QuerySingleAsync<(long, long, long, long, double)>(
            "SELECT runs, tokens_input, insights, duration_sum, cost_usd FROM run_rollups WHERE tenant_id = 't'"));
        // the helper is inlined (a STRICT one is not, and triples the triggers' cost)
        var plan = string.Join('\n', await connection.QueryAsync<string>(
            "EXPLAIN VERBOSE SELECT saturating_add(tokens_input, 1::bigint), saturating_add(cost_usd, 1.0::float8) FROM runs"));
        Assert.DoesNotContain("saturating_add", plan);
    }

    [Fact]
    public async Task Triggers_UnderConcurrentWritersOnEightConnections_MatchTheRuns()
    {
        // Arrange: few tenants, workflows and hours, so the writers fight over the same counter rows.
        const int writers = 8, perWriter = 40;
        var retries = 0;

        async Task InTransactionAsync(NpgsqlConnection connection, Func<NpgsqlTransaction, Task> work)
        {
            for (var attempt = 0; ; attempt++)
            {
                await using var tx = await connection.BeginTransactionAsync();
                try
                {
                    await work(tx);
                    await tx.CommitAsync();
                    return;
                }
                catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected && attempt < 10)
                {
                    await tx.RollbackAsync();
                    Interlocked.Increment(ref retries);
                }
            }
        }

        async Task WriterAsync(int w)
        {
            await using var connection = Open();
            for (var k = 0; k < perWriter; k++)
            {
                var i = w * perWriter + k;
                var run = MakeRun(i) with { TenantId = $"t{i % 2}", CreatedAt = Hour(20, i % 3, i % 60) };
                await InTransactionAsync(connection, tx => connection.ExecuteAsync(InsertRun, run, tx));
                // A claim and a sweeper-like requeue in one transaction each, then the finish with usage.
                await InTransactionAsync(connection, tx => connection.ExecuteAsync(
                    "UPDATE runs SET status = 'running' WHERE id = @Id AND status = 'queued'", new { run.Id }, tx));
                if (k % 3 == 0)
                {
                    await InTransactionAsync(connection, tx => connection.ExecuteAsync(
                        "UPDATE runs SET status = 'queued' WHERE id = @Id AND status = 'running'", new { run.Id }, tx));
                    await InTransactionAsync(connection, tx => connection.ExecuteAsync(
                        "UPDATE runs SET status = 'running' WHERE id = @Id AND status = 'queued'", new { run.Id }, tx));
                }
                await InTransactionAsync(connection, async tx =>
                {
                    await connection.ExecuteAsync("""
                        UPDATE runs SET status = @End, duration_ms = @Duration, cost_usd = @Cost, tokens_input = @Input,
                            insights_created = @Insights, model_name = @Model
                        WHERE id = @Id
                        """, new { run.Id, End = k % 2 == 0 ? "completed" : "failed", Duration = 10L * k, Cost = 0.5, Input = 3L * k, Insights = (long)k, Model = "m" }, tx);
                    // A second run in the same transaction, touching other rows in another order.
                    if (k % 5 == 0)
                        await connection.ExecuteAsync("UPDATE runs SET cost_usd = COALESCE(cost_usd, 0) + 0.25 WHERE id = @Other",
                            new { Other = $"run-{(i + 7) % (writers * perWriter):0000}" }, tx);
                });
                if (k % 10 == 9)
                    await InTransactionAsync(connection, tx => connection.ExecuteAsync("DELETE FROM runs WHERE id = @Id", new { run.Id }, tx));
            }
        }

        // Act
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => WriterAsync(w))));

        // Assert
        await AssertConsistentAsync($"after {writers} concurrent writers ({retries} retried transactions)");
        await using var check = Open();
        Assert.Equal(writers * perWriter - writers * (perWriter / 10), await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs"));
    }

    // The counters as stored, shard by shard: a rebuild must put each run where the triggers will later take it from.
    private const string CountsInShards = "SELECT tenant_id, workflow_name, status, shard, n FROM run_counts WHERE n <> 0 ORDER BY 1, 2, 3, 4";

    [Fact]
    public async Task Triggers_EachTransactionCountsItsRunsInOneShard()
    {
        // Arrange: eight runs of one tenant, workflow and status written one transaction each, then eight in one
        await using var connection = Open();
        NewRun Run(string tenant, int i) => MakeRun(i) with { Id = $"{tenant}-{i}", TenantId = tenant, WorkflowName = "wf", CreatedAt = Hour(20, 10), DryRun = 0, ModelName = "m" };

        // Act
        await connection.ExecuteAsync(InsertRun, Enumerable.Range(0, 8).Select(i => Run("apart", i)));
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync(InsertRun, Enumerable.Range(0, 8).Select(i => Run("together", i)), tx);
            await tx.CommitAsync();
        }

        // Assert: each run in its transaction's shard (its id modulo 8), so creates committing side by side mostly update
        // rows of their own, while the runs of one transaction (a create group) update one row of each derived table
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE shard IS DISTINCT FROM xmin::text::bigint % 8"));
        Assert.Equal(await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT xmin::text::bigint % 8) FROM runs WHERE tenant_id = 'apart'"),
            await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM run_counts WHERE tenant_id = 'apart'"));
        foreach (var table in new[] { "run_counts", "run_rollups", "run_daily" })
            Assert.Equal(1L, await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table} WHERE tenant_id = 'together'"));
        Assert.Equal(8L, await connection.ExecuteScalarAsync<long>("SELECT n FROM run_counts WHERE tenant_id = 'together'"));
        await AssertConsistentAsync("after runs apart and together");
    }

    [Fact]
    public async Task Triggers_RunsCountedBeforeShardsWereStored_MoveAndLeaveFromPkModulo8()
    {
        // Arrange: runs from before migration 0012 (no stored shard; counted in pk % 8), loaded as a copy loads them
        await using var connection = Open();
        await connection.ExecuteAsync("SET session_replication_role = replica");
        await connection.ExecuteAsync(InsertRun, Enumerable.Range(0, 24).Select(i => MakeRun(i)));
        await connection.ExecuteAsync("RESET session_replication_role");
        await connection.ExecuteAsync("UPDATE runs SET shard = NULL");
        await connection.ExecuteAsync(PostgresDialect.RebuildDerivedSql);
        var before = await RowsAsync(connection, CountsInShards);

        // Act: new runs beside them, then each run moved on and some deleted
        await connection.ExecuteAsync(InsertRun, Enumerable.Range(100, 8).Select(i => MakeRun(i)));
        await connection.ExecuteAsync("UPDATE runs SET status = 'completed', duration_ms = 10, cost_usd = 0.5");
        await connection.ExecuteAsync("DELETE FROM runs WHERE pk % 3 = 0");

        // Assert: every shard holds exactly its own runs (a rebuild, which reads the stored shard or pk % 8, agrees)
        Assert.Contains(before, r => r.Contains("queued"));
        await AssertConsistentAsync("after moving and deleting runs of both kinds");
        var kept = await RowsAsync(connection, CountsInShards);
        await connection.ExecuteAsync(PostgresDialect.RebuildDerivedSql);
        Assert.Equal(kept, await RowsAsync(connection, CountsInShards));
        Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM run_counts WHERE n < 0"));
    }

    [Fact]
    public async Task RebuildDerived_AfterTheDerivedTablesWereEmptied_GivesWhatTheTriggersKept()
    {
        // Arrange: runs written with the triggers on, then the derived tables emptied
        await using var connection = Open();
        await connection.ExecuteAsync(InsertRun, Enumerable.Range(0, 50).Select(i => MakeRun(i, i % 3 == 0 ? "completed" : "queued")));
        await connection.ExecuteAsync("UPDATE runs SET cost_usd = 1.75, status = 'failed' WHERE pk % 4 = 0");
        var kept = new List<object?[]>();
        foreach (var sql in new[] { CountsKept, RollupsKept, DailyKept, CountsInShards }) kept.AddRange(await DerivedRows.ReadAsync(connection, sql));
        await connection.ExecuteAsync("TRUNCATE run_counts, run_rollups, run_daily");

        // Act
        await connection.ExecuteAsync(PostgresDialect.RebuildDerivedSql);

        // Assert
        var rebuilt = new List<object?[]>();
        foreach (var sql in new[] { CountsKept, RollupsKept, DailyKept, CountsInShards }) rebuilt.AddRange(await DerivedRows.ReadAsync(connection, sql));
        DerivedRows.AssertSame(rebuilt, kept, "the rebuilt tables");
        await AssertConsistentAsync("after RebuildDerived");
    }

    [Fact]
    public async Task RebuildDerived_AfterRunsCopiedWithTheTriggersOff_CountsThemToo()
    {
        // Arrange: a copy loads runs with the triggers off (here: as a replica session), over derived rows already there
        await using var connection = Open();
        await connection.ExecuteAsync(InsertRun, Enumerable.Range(0, 20).Select(i => MakeRun(i)));
        await connection.ExecuteAsync("SET session_replication_role = replica");
        await connection.ExecuteAsync(InsertRun, Enumerable.Range(100, 30).Select(i => MakeRun(i, "completed")));
        await connection.ExecuteAsync("RESET session_replication_role");
        Assert.Equal(20L, await connection.ExecuteScalarAsync<long>("SELECT SUM(n) FROM run_counts"));

        // Act
        await connection.ExecuteAsync(PostgresDialect.RebuildDerivedSql);

        // Assert
        await AssertConsistentAsync("after RebuildDerived");
        Assert.Equal(50L, await connection.ExecuteScalarAsync<long>("SELECT SUM(n) FROM run_counts"));
    }

    private static async Task<string> PlanAsync(NpgsqlConnection connection, string sql) =>
        string.Join('\n', await connection.QueryAsync<string>("EXPLAIN " + sql));

    [Fact]
    public async Task Indexes_OnTwentyThousandRuns_ServeNameSearchAndEveryListOrder()
    {
        // Arrange: 20k runs with hex names (so a substring picks out a few), created over ten days.
        await using var connection = Open();
        await connection.ExecuteAsync("""
            INSERT INTO runs (id, tenant_id, workflow_name, name, status, created_at, duration_ms, updated_at)
            SELECT 'r' || g, 't' || (g % 5), 'wf-' || (g % 7), md5(g::text),
                   (ARRAY['queued', 'running', 'completed', 'failed'])[1 + g % 4],
                   to_char(timestamp '2026-11-01' + g * interval '43 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   CASE WHEN g % 6 = 0 THEN NULL ELSE g % 9973 END, 'x'
            FROM generate_series(1, 20000) g
            """);
        await connection.ExecuteAsync("ANALYZE runs");
        var middle = (await connection.ExecuteScalarAsync<string>("SELECT name FROM runs WHERE id = 'r1234'"))![10..16];

        // Act + Assert: a substring anywhere goes through the trigrams
        var substring = await PlanAsync(connection, $"SELECT pk FROM runs WHERE name ILIKE '%{middle.ToUpperInvariant()}%'");
        Assert.Contains("Bitmap Index Scan on ix_runs_name_trgm", substring);
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM runs WHERE name ILIKE '%{middle.ToUpperInvariant()}%' AND id = 'r1234'"));

        // every list order the store uses reads an index in order: no Sort node
        foreach (var sql in new[]
        {
            "SELECT pk FROM runs ORDER BY created_at DESC, pk DESC LIMIT 20",
            "SELECT pk FROM runs ORDER BY created_at ASC, pk ASC LIMIT 20",
            "SELECT pk FROM runs WHERE tenant_id = 't1' ORDER BY created_at DESC, pk DESC LIMIT 20",
            "SELECT pk FROM runs WHERE tenant_id = 't1' AND status = 'failed' ORDER BY created_at DESC, pk DESC LIMIT 20",
            "SELECT pk FROM runs WHERE tenant_id = 't1' AND workflow_name = 'wf-3' ORDER BY created_at DESC, pk DESC LIMIT 20",
            "SELECT pk FROM runs WHERE workflow_name = 'wf-3' ORDER BY created_at DESC, pk DESC LIMIT 20",
            "SELECT pk FROM runs WHERE status = 'failed' ORDER BY created_at DESC, pk DESC LIMIT 20",
            "SELECT pk FROM runs ORDER BY status DESC, created_at DESC, pk DESC LIMIT 20",
            "SELECT pk FROM runs WHERE tenant_id = 't1' ORDER BY status ASC, created_at ASC, pk ASC LIMIT 20",
            "SELECT pk FROM runs ORDER BY duration_ms ASC NULLS LAST, pk ASC LIMIT 20",
            "SELECT pk FROM runs ORDER BY duration_ms DESC NULLS LAST, pk DESC LIMIT 20",
            "SELECT pk FROM runs WHERE tenant_id = 't1' ORDER BY duration_ms ASC NULLS LAST, pk ASC LIMIT 20",
            "SELECT pk FROM runs WHERE tenant_id = 't1' ORDER BY duration_ms DESC NULLS LAST, pk DESC LIMIT 20",
            "SELECT pk FROM runs WHERE status = 'queued' ORDER BY created_at, pk LIMIT 1 FOR UPDATE SKIP LOCKED",
            "SELECT pk FROM runs WHERE tenant_id = 't1' AND status = 'queued' ORDER BY created_at, pk LIMIT 1 FOR UPDATE SKIP LOCKED",
        })
        {
            var plan = await PlanAsync(connection, sql);
            Assert.False(plan.Contains("Sort", StringComparison.Ordinal) || plan.Contains("Seq Scan", StringComparison.Ordinal), $"{sql}\n{plan}");
        }
    }

    // PostgreSQL-only columns and tables: artifact bytes in the database, SQLite's implicit rowid made explicit, the key ring.
    private static readonly string[] PostgresOnly =
    [
        "artifact_blobs.sha256", "artifact_blobs.content", "artifacts.rowid",
        "data_protection_keys.id", "data_protection_keys.friendly_name", "data_protection_keys.xml",
        "run_counts.shard", "run_rollups.shard", "run_daily.shard", "runs.shard",
    ];

    [Fact]
    public async Task Schema_HasEveryTableAndColumnSqliteReachesThroughItsMigrations()
    {
        // Arrange: SQLite's schema after all its migrations, in memory
        using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        sqlite.Open();
        foreach (var (version, _, sql) in MigrationRunner.LoadMigrations(StoreProvider.Sqlite))
            await MigrationRunner.ApplyOneAsync(sqlite, null, StoreProvider.Sqlite, version, sql);
        var expected = new List<string>();
        foreach (var table in sqlite.Query<string>("""
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'runs_name_fts%' ORDER BY name
            """))
        {
            foreach (var c in sqlite.Query<(string Name, string Type, long NotNull, string? Default, long Pk)>(
                "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(@Table)", new { Table = table }))
            {
                var type = c.Type switch { "INTEGER" => "bigint", "TEXT" => "text", "REAL" => "double precision", _ => c.Type };
                var identity = c.Type == "INTEGER" && c.Pk == 1 && table is "runs" or "webhook_deliveries" or "retention_purges" or "saved_views" or "run_activity" or "bulk_operations" or "alert_events";
                expected.Add($"{table}.{c.Name} {type} {(c.NotNull == 1 || c.Pk > 0 ? "not null" : "null")} default={(identity ? "identity" : c.Default)}");
            }
        }

        // Act: the PostgreSQL schema after all its migrations too (the constructor applied them)
        await using var connection = Open();
        var actual = (await connection.QueryAsync<(string Table, string Column, string Type, string Nullable, string? Default, string Identity)>("""
            SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
            """))
            .Where(c => !PostgresOnly.Contains($"{c.Table}.{c.Column}"))
            .Select(c => $"{c.Table}.{c.Column} {c.Type} {(c.Nullable == "NO" ? "not null" : "null")} default={(c.Identity == "YES" ? "identity" : c.Default?.Replace("::text", ""))}")
            .ToList();

        // Assert
        Assert.True(expected.Count > 100, $"only {expected.Count} SQLite columns read");
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        Assert.Empty(await connection.QueryAsync<string>("""
            SELECT table_name || '.' || column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'
              AND table_name <> 'data_protection_keys' -- the key ring's XML is stored and read whole, never compared
            """));
    }

    [Fact]
    public async Task Schema_TextComparesByteWise_AsSqliteBinaryDoes()
    {
        // Arrange: whatever the database's locale, ids, names and times order by code point, as in SQLite,
        // and lower() folds ASCII only, as SQLite's NOCASE does.
        await using var connection = Open();
        await connection.ExecuteAsync(InsertRun, new[] { "b", "B", "a", "_x", "é" }.Select((w, i) => MakeRun(i) with { Id = $"id-{i}", WorkflowName = w, Name = "ÉA" }));

        // Act
        var order = (await connection.QueryAsync<string>("SELECT workflow_name FROM runs ORDER BY workflow_name")).ToList();
        var folded = await connection.ExecuteScalarAsync<string>("SELECT lower(name) FROM runs WHERE id = 'id-0'");

        // Assert
        Assert.Equal(new[] { "B", "_x", "a", "b", "é" }, order);
        Assert.Equal("Éa", folded);
    }
}
