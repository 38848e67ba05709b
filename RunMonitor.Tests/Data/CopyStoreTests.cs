using System.Data.Common;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Data;

/// A SQLite store made through the app (runs with steps, errors and usage, artifacts, a webhook delivery, a
/// key, a retention pass), copied once into a fresh PostgreSQL database by `copy-store`.
public sealed class CopyStoreFixture : IAsyncLifetime
{
    public const string Password = "never-printed-pw-31337";

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "runmonitor-tests", "copy-" + Guid.NewGuid().ToString("N"));

    public string SourcePath => Path.Combine(Directory, "store.db");

    /// The target's connection string, with a password the trust-auth test server ignores (it must never be printed).
    public string Target { get; private set; } = "";

    public byte[] ArtifactBytes { get; } = RandomNumberGenerator.GetBytes(200_000);

    public string ArtifactSha => Convert.ToHexStringLower(SHA256.HashData(ArtifactBytes));

    public string ArtifactId { get; private set; } = "";

    /// An artifact whose file was deleted before the copy.
    public string MissingSha { get; private set; } = "";

    public string MissingArtifactId { get; private set; } = "";

    public string RunJsonBefore { get; private set; } = "";

    /// The run list and the admin's 30-day stats (counters and rollups at work) as the SQLite app answered them.
    public string ListJsonBefore { get; private set; } = "";

    public string StatsJsonBefore { get; private set; } = "";

    public DateTimeOffset ClockAtEnd { get; private set; }

    public string KeySecret { get; private set; } = "";

    public (int Code, string Output, string Error) Copy { get; private set; }

    private sealed class SourceFactory(string path) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Database"] = path,
            // Nothing listens on port 9: finishing a run leaves a delivery row behind.
            ["RunMonitor:Webhooks:0:Url"] = "http://127.0.0.1:9/dead",
            ["RunMonitor:Webhooks:0:Secret"] = "hook-secret",
        };
    }

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var factory = new SourceFactory(SourcePath);
        try
        {
            var client = factory.CreateClient();
            await client.CreateRunAsync(new
            {
                id = "copy-a", tenantId = "acme", workflowName = "nightly", name = "Nightly A", status = "running",
                workflowVersion = "2.3.0", triggerType = "update", baseRunId = "copy-base",
                triggerPayload = new { source = "cron", n = 1 }, context = new { region = "eu" },
                steps = new[] { new { stepId = "fetch" }, new { stepId = "bundle" } },
                errors = new[] { new { topic = (string?)"feed", error = "timeout", node = (string?)"n1" }, new { topic = (string?)null, error = "retry", node = (string?)null } },
                usage = new { model = "gpt-4o-mini", tokensInput = 1200, tokensOutput = 300 },
            });
            await client.PutStepAsync("copy-a", "fetch", new
            {
                status = "failed", durationMs = 1200, output = new { ok = true }, inputHash = "sha256:9f2c", outputArtifactIds = new[] { "art-1", "art-2" },
                endedAt = "2026-11-21T11:59:00Z", error = new { code = "E_FETCH", message = "feed down", attempt = 2, timestamp = "2026-11-21T11:59:00Z", details = new { status = 503 } },
            });
            ArtifactId = await UploadAsync(client, "copy-a", "bundle", "bundle.zip", ArtifactBytes);
            var lost = "lost bytes"u8.ToArray();
            MissingArtifactId = await UploadAsync(client, "copy-a", "bundle", "lost.txt", lost);
            MissingSha = Convert.ToHexStringLower(SHA256.HashData(lost));
            var logs = await client.PostAsync("/api/runs/copy-a/steps/fetch/logs", new StringContent(
                "{\"message\":\"fetching\",\"fields\":{\"url\":\"https://feed\"}}\n{\"message\":\"feed down\",\"level\":\"error\",\"ts\":\"2026-11-21T11:59:00Z\"}\n",
                System.Text.Encoding.UTF8, "application/x-ndjson"));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, logs.StatusCode);
            await client.PatchJsonAsync("/api/runs/copy-a", new { status = "completed", metrics = new { insightsCreated = 3 } });
            await client.CreateRunAsync(new
            {
                id = "copy-b", tenantId = "globex", workflowName = "billing", status = "failed",
                error = new { message = "boom", type = "IOError", stack = "at x\nat y", code = "E_IO", failedStepId = "write", timestamp = "2026-11-21T11:00:00Z" },
                usage = new { model = "home-made-llm", tokensInput = 10, costUsd = 0.5 },
            });
            for (var i = 0; i < 24; i++)
            {
                factory.Clock.Advance(TimeSpan.FromMinutes(41));
                await client.CreateRunAsync(new
                {
                    tenantId = i % 3 == 0 ? "acme" : "default", workflowName = i % 2 == 0 ? "nightly" : "sync",
                    status = (i % 4) switch { 0 => "completed", 1 => "failed", 2 => "running", _ => "queued" },
                    dryRun = i % 5 == 0, name = $"Run {i}",
                    createdAt = factory.Clock.GetUtcNow().AddSeconds(-90), startedAt = factory.Clock.GetUtcNow().AddSeconds(-60 - i),
                    completedAt = i % 4 < 2 ? factory.Clock.GetUtcNow() : (DateTimeOffset?)null,
                    usage = i % 2 == 0 ? new { model = "gpt-4o-mini", tokensInput = 100 * i, tokensOutput = 7 * i } : null,
                });
            }
            RunJsonBefore = await client.GetStringAsync("/api/runs/copy-a");
            ListJsonBefore = await client.GetStringAsync("/api/runs");
            StatsJsonBefore = await client.GetStringAsync("/api/admin/runs/stats?period=30d");
            ClockAtEnd = factory.Clock.GetUtcNow();

            var view = await client.PostAsync("/api/views", new StringContent("{\"name\":\"Failed nightly\",\"query\":\"layer_name=nightly&status=failed\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.Created, view.StatusCode);

            var services = factory.Services;
            await services.GetRequiredService<Database>().WriteAsync((connection, tx) => connection.ExecuteAsync(
                "INSERT INTO retention_purges (ran_at, cutoff, runs_deleted, steps_deleted) VALUES (@RanAt, @Cutoff, 4, 9)",
                new { RanAt = "2026-11-20T03:00:00.000Z", Cutoff = "2026-10-21T03:00:00.000Z" }, tx));
            // A stopped bulk operation with its items (the runs' activity the writes above recorded is copied too).
            await services.GetRequiredService<Database>().WriteAsync(async (connection, tx) =>
            {
                var id = await connection.ExecuteScalarAsync<long>("""
                    INSERT INTO bulk_operations (tenant_id, action, status, filter, matched, eligible, done, succeeded, skipped, failed, created_by, created_at, completed_at)
                    VALUES ('globex', 'retry', 'stopped', 'status=failed', 1, 1, 0, 0, 0, 0, 'loopback', '2026-11-21T12:00:00.000Z', '2026-11-21T12:00:01.000Z')
                    RETURNING id
                    """, transaction: tx);
                return await connection.ExecuteAsync(
                    "INSERT INTO bulk_items (operation_id, seq, tenant_id, run_id, state, reason) VALUES (@Id, 2, 'globex', 'copy-b', 'skipped', 'stopped first')",
                    new { Id = id }, tx);
            });
            // A worker and an alert's state and event (issue 17) travel too.
            var beat = await client.PostAsync("/api/workers/copy-worker/heartbeat", new StringContent("{\"host\":\"h\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.OK, beat.StatusCode);
            await services.GetRequiredService<Database>().WriteAsync((connection, tx) => connection.ExecuteAsync("""
                INSERT INTO alert_events (rule, tenant_id, state, value, threshold, at) VALUES ('copied', 'acme', 'firing', 0.5, 0.2, '2026-11-20T03:00:00.000Z');
                INSERT INTO alert_states (rule, tenant_id, state, value, threshold, evaluated_at, changed_at) VALUES ('copied', 'acme', 'firing', 0.5, 0.2, '2026-11-20T03:00:00.000Z', '2026-11-20T03:00:00.000Z');
                INSERT INTO worker_hours (tenant_id, name, hour, claimed, failed) VALUES ('acme', 'copy-worker', '2026-11-20T03', 2, 1)
                """, transaction: tx));
            // Last: once a key exists, loopback is no longer trusted.
            KeySecret = (await services.GetRequiredService<ApiKeyStore>().CreateAsync(null, Roles.Admin)).Secret;
        }
        finally
        {
            factory.Dispose();
        }
        File.Delete(Path.Combine(Directory, "artifacts", MissingSha[..2], MissingSha[2..]));

        Target = PostgresServer.CreateDatabase() + ";Password=" + Password;
        Copy = await CopyStoreTests.RunAsync("--from", SourcePath, "--to", Target);
    }

    private static async Task<string> UploadAsync(HttpClient client, string runId, string stepId, string name, byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var response = await client.PostAsync($"/api/runs/{runId}/steps/{stepId}/artifacts?name={Uri.EscapeDataString(name)}", content);
        var json = await response.JsonAsync();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return json.GetProperty("id").GetString()!;
    }

    public Task DisposeAsync()
    {
        if (Target != "") PostgresServer.DropDatabase(Target);
        SqliteConnection.ClearAllPools();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

public sealed class CopyStoreTests(CopyStoreFixture fixture) : IClassFixture<CopyStoreFixture>
{
    public static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CopyStoreCommand.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private SqliteConnection Source() => Sqlite(fixture.SourcePath);

    private static SqliteConnection Sqlite(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static NpgsqlConnection Postgres(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return connection;
    }

    /// Rows as sorted, comparable lines: every column (or only those named) with its value, numbers as numbers
    /// whatever the engine's type, sums of money to 9 decimals (the engines add them up in different orders).
    private static List<string> Rows(DbConnection connection, string sql, IReadOnlySet<string>? only = null) =>
        connection.Query(sql)
            .Cast<IDictionary<string, object?>>()
            .Select(row => string.Join(" | ", row
                .Where(c => only is null || only.Contains(c.Key))
                .OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => c.Key + "=" + c.Value switch
                {
                    null => "NULL",
                    long or int or short => Convert.ToInt64(c.Value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
                    double d => Math.Round(d, 9).ToString("R", CultureInfo.InvariantCulture),
                    byte[] b => Convert.ToHexString(b),
                    var v => "'" + Convert.ToString(v, CultureInfo.InvariantCulture) + "'",
                })))
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void Copy_FromAppBuiltStore_ExitsZero()
    {
        Assert.True(fixture.Copy.Code == 0, fixture.Copy.Output + fixture.Copy.Error);
    }

    [Fact]
    public void Copy_EveryTable_RowForRowEqual()
    {
        using var source = Source();
        using var target = Postgres(fixture.Target);
        foreach (var table in CopyStoreCommand.Tables)
        {
            var columns = source.Query<string>("SELECT name FROM pragma_table_info(@Table)", new { Table = table }).ToHashSet();
            var expected = Rows(source, $"SELECT * FROM {table}");
            var actual = Rows(target, $"SELECT * FROM {table}", columns);

            Assert.NotEmpty(expected);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Copy_ArtifactsKeepTheirUploadOrder()
    {
        using var source = Source();
        using var target = Postgres(fixture.Target);

        var expected = source.Query<(string, long)>("SELECT id, rowid FROM artifacts ORDER BY rowid").ToList();
        var actual = target.Query<(string, long)>("SELECT id, rowid FROM artifacts ORDER BY rowid").ToList();

        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("run_counts", "tenant_id, workflow_name, status", "n")]
    [InlineData("run_rollups", "tenant_id, hour, status, dry", "runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count")]
    [InlineData("run_daily", "tenant_id, day, workflow_name, model_name, status", "runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output")]
    public void Copy_DerivedTables_EqualTheSources(string table, string keys, string values)
    {
        using var source = Source();
        using var target = Postgres(fixture.Target);

        // Summed over the rows of a key: PostgreSQL keeps each key in shards (its migration 0010). SQLite keeps a group
        // whose count fell to 0; a rebuild has no such row. Readers skip both alike.
        var sums = string.Join(", ", values.Split(", ").Select(v => v == "cost_usd" ? "CAST(SUM(cost_usd) AS DOUBLE PRECISION) AS cost_usd" : $"CAST(SUM({v}) AS BIGINT) AS {v}"));
        var sql = $"SELECT {keys}, {sums} FROM {table} GROUP BY {keys} HAVING SUM({values.Split(", ")[0]}) > 0 ORDER BY {keys}";
        var expected = Rows(source, sql);
        var actual = Rows(target, sql);

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Copy_RunsTriggers_AreOnAgainAfterTheLoad()
    {
        using var target = Postgres(fixture.Target);
        using var tx = target.BeginTransaction();

        target.Execute("UPDATE runs SET status = 'cancelled' WHERE id = 'copy-b'", transaction: tx);
        // The derived-table triggers are deferred to the commit; this makes them run now, inside the rolled-back transaction.
        target.Execute("SET CONSTRAINTS ALL IMMEDIATE", transaction: tx);
        var counts = target.Query<(string, long)>(
            "SELECT status, CAST(SUM(n) AS BIGINT) FROM run_counts WHERE tenant_id = 'globex' AND workflow_name = 'billing' GROUP BY status ORDER BY status", transaction: tx).ToList();
        tx.Rollback();

        Assert.Equal([("cancelled", 1L), ("failed", 0L)], counts);
    }

    [Theory]
    [InlineData("runs", "pk", "INSERT INTO runs (id, tenant_id, workflow_name, status, created_at, updated_at) VALUES ('new-run', 'acme', 'wf', 'queued', '2026-11-22T00:00:00.000Z', '2026-11-22T00:00:00.000Z') RETURNING pk")]
    [InlineData("webhook_deliveries", "id", "INSERT INTO webhook_deliveries (run_id, tenant_id, event, webhook_index, url, payload, next_attempt_at, created_at) VALUES ('copy-a', 'acme', 'run.completed', 0, 'http://x', '{}', 'now', 'now') RETURNING id")]
    [InlineData("saved_views", "id", "INSERT INTO saved_views (tenant_id, name, query, created_by, created_at) VALUES ('acme', 'new view', '', 'x', 'now') RETURNING id")]
    [InlineData("run_activity", "id", "INSERT INTO run_activity (tenant_id, run_id, at, actor, action) VALUES ('acme', 'copy-a', 'now', 'x', 'created') RETURNING id")]
    [InlineData("bulk_operations", "id", "INSERT INTO bulk_operations (tenant_id, action, status, matched, eligible, created_by, created_at) VALUES ('acme', 'retry', 'stopped', 0, 0, 'x', 'now') RETURNING id")]
    [InlineData("alert_events", "id", "INSERT INTO alert_events (rule, state, threshold, at) VALUES ('r', 'firing', 1, 'now') RETURNING id")]
    [InlineData("retention_purges", "id", "INSERT INTO retention_purges (ran_at, cutoff, runs_deleted, steps_deleted) VALUES ('now', 'then', 0, 0) RETURNING id")]
    [InlineData("artifacts", "rowid", "INSERT INTO artifacts (id, run_id, step_id, tenant_id, name, content_type, size, sha256, created_at) VALUES ('new-art', 'copy-a', 'bundle', 'acme', 'n', 't', 0, 'x', 'now') RETURNING rowid")]
    public void Copy_Identity_ContinuesAfterTheLargestCopiedKey(string table, string key, string insert)
    {
        using var source = Source();
        using var target = Postgres(fixture.Target);
        var largest = source.ExecuteScalar<long>($"SELECT MAX({key}) FROM {table}");
        using var tx = target.BeginTransaction();

        var assigned = target.ExecuteScalar<long>(insert, transaction: tx);
        tx.Rollback();

        Assert.True(largest > 0);
        Assert.True(assigned > largest, $"{table}.{key}: {assigned} after a copied {largest}");
    }

    [Fact]
    public async Task Copy_Schema_IndexesConstraintsAndTriggers_SameAsAFreshlyMigratedStore()
    {
        const string Schema = """
            SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
            UNION ALL
            SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
            ORDER BY 1
            """;
        var fresh = PostgresServer.CreateDatabase();
        try
        {
            await new MigrationRunner(Database.FromSetting(fresh, "/"), Microsoft.Extensions.Logging.Abstractions.NullLogger<MigrationRunner>.Instance).ApplyAsync();
            using var expected = Postgres(fresh);
            using var actual = Postgres(fixture.Target);

            Assert.Equal(expected.Query<string>(Schema).ToList(), actual.Query<string>(Schema).ToList());
        }
        finally
        {
            PostgresServer.DropDatabase(fresh);
        }
    }

    [Fact]
    public void Copy_ArtifactBytes_InArtifactBlobs_EqualTheFile()
    {
        using var target = Postgres(fixture.Target);

        var stored = target.ExecuteScalar<byte[]>("SELECT content FROM artifact_blobs WHERE sha256 = @Sha", new { Sha = fixture.ArtifactSha });

        Assert.Equal(fixture.ArtifactBytes, stored);
        Assert.Equal(File.ReadAllBytes(Path.Combine(fixture.Directory, "artifacts", fixture.ArtifactSha[..2], fixture.ArtifactSha[2..])), stored);
    }

    [Fact]
    public void Copy_ArtifactFileMissing_WarnsSkipsTheBlobAndKeepsTheRow()
    {
        using var target = Postgres(fixture.Target);

        Assert.Contains($"warning: the bytes of artifact {fixture.MissingSha} are missing", fixture.Copy.Error);
        Assert.Equal(0L, target.ExecuteScalar<long>("SELECT COUNT(*) FROM artifact_blobs WHERE sha256 = @Sha", new { Sha = fixture.MissingSha }));
        Assert.Equal(1L, target.ExecuteScalar<long>("SELECT COUNT(*) FROM artifacts WHERE sha256 = @Sha", new { Sha = fixture.MissingSha }));
    }

    [Fact]
    public void Copy_Output_CountsEachTableAndNeverPrintsThePassword()
    {
        var (_, output, error) = fixture.Copy;

        foreach (var table in CopyStoreCommand.Tables) Assert.Matches($@"(?m)^  {table}: [\d.,]+ rows in \d+[.,]\d s$", output);
        Assert.Matches(@"(?m)^  artifact_blobs: 1 blobs, 200\W?000 bytes", output);
        Assert.Matches(@"(?m)^Copied 26 runs \(.*\) to PostgreSQL database rm_\w+ on 127\.0\.0\.1:\d+ in \d+[.,]\d s\.", output);
        Assert.DoesNotContain(CopyStoreFixture.Password, output + error);
    }

    [Fact]
    public async Task Copy_IntoStoreThatHoldsData_RefusesWithExit1AndChangesNothing()
    {
        await using var target = Postgres(fixture.Target);
        var before = CopyStoreCommand.Tables.Append("artifact_blobs").Select(t => Rows(target, $"SELECT * FROM {t}")).ToList();

        var (code, _, error) = await RunAsync("--from", fixture.SourcePath, "--to", fixture.Target);

        Assert.Equal(1, code);
        Assert.Contains("already holds data (in runs, steps, run_errors, artifacts, workflows, webhook_deliveries, api_keys, retention_purges, saved_views, run_activity, bulk_operations, bulk_items, run_logs, run_log_counts, workers, worker_hours, alert_states, alert_events, artifact_blobs)", error);
        Assert.Contains("never merges into or overwrites", error);
        Assert.Equal(before, CopyStoreCommand.Tables.Append("artifact_blobs").Select(t => Rows(target, $"SELECT * FROM {t}")).ToList());
    }

    [Theory]
    [InlineData(new string[0], "--from is required")]
    [InlineData(new[] { "--to", "Host=localhost;Database=x" }, "--from is required")]
    [InlineData(new[] { "--from", "/nonexistent/store.db", "--to", "Host=localhost;Database=x" }, "--from '/nonexistent/store.db' does not exist")]
    [InlineData(new[] { "--from", "SOURCE" }, "--to is required")]
    [InlineData(new[] { "--from", "SOURCE", "--to", "/tmp/other.db" }, "--to is not a PostgreSQL connection string")]
    [InlineData(new[] { "--from", "SOURCE", "--to", "Host=localhost;Colour=red" }, "--to is not a valid PostgreSQL connection string")]
    [InlineData(new[] { "--from", "SOURCE", "--to" }, "--to needs a value")]
    [InlineData(new[] { "--from", "SOURCE", "--from", "SOURCE", "--to", "Host=x" }, "--from is given twice")]
    [InlineData(new[] { "--from", "SOURCE", "--to", "Host=x", "--force" }, "unexpected '--force'")]
    public async Task Run_BadArguments_Exit2WithUsageNamingTheArgument(string[] args, string message)
    {
        var (code, output, error) = await RunAsync(args.Select(a => a == "SOURCE" ? fixture.SourcePath : a).ToArray());

        Assert.Equal(2, code);
        Assert.Contains("copy-store: " + message, error);
        Assert.Contains("usage: copy-store --from <sqlite file> --to <PostgreSQL connection string>", error);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task Run_FromIsNotAStore_Exit2()
    {
        var notSqlite = Path.Combine(fixture.Directory, "notes.txt");
        await File.WriteAllTextAsync(notSqlite, "just some text, long enough to be read as a header of a file SQLite would reject");
        var otherSqlite = Path.Combine(fixture.Directory, "other.db");
        using (var other = Sqlite(otherSqlite)) other.Execute("CREATE TABLE things (x INTEGER)");

        var text = await RunAsync("--from", notSqlite, "--to", "Host=localhost;Database=x");
        var other2 = await RunAsync("--from", otherSqlite, "--to", "Host=localhost;Database=x");

        Assert.Equal(2, text.Code);
        Assert.Contains($"--from '{notSqlite}' is not a SQLite database", text.Error);
        Assert.Equal(2, other2.Code);
        Assert.Contains($"--from '{otherSqlite}' is a SQLite file but not a RunMonitor store", other2.Error);
    }

    /// A SQLite store with the migrations up to `version` applied by hand, as an older RunMonitor left it.
    private string OlderStore(string name, int version)
    {
        var path = Path.Combine(fixture.Directory, name);
        using var connection = Sqlite(path);
        connection.Execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        foreach (var (v, migration, sql) in MigrationRunner.LoadMigrations().Where(m => m.Version <= version))
        {
            connection.Execute(sql);
            connection.Execute("INSERT INTO schema_version VALUES (@V, @Migration, '2026-01-01T00:00:00Z')", new { V = v, Migration = migration });
        }
        connection.Execute("""
            INSERT INTO runs (id, tenant_id, workflow_name, status, created_at, updated_at, duration_ms)
            VALUES ('old-1', 'acme', 'wf', 'completed', '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z', 1500)
            """);
        return path;
    }

    /// Copies `path` into a database of its own, hands the command's result and a connection to it to `check`.
    private static async Task CopyIntoFreshDatabaseAsync(string path, Action<(int Code, string Output, string Error), NpgsqlConnection> check)
    {
        var target = PostgresServer.CreateDatabase();
        try
        {
            var result = await RunAsync("--from", path, "--to", target);
            using var pg = Postgres(target);
            check(result, pg);
        }
        finally
        {
            PostgresServer.DropDatabase(target);
        }
    }

    [Fact]
    public async Task Copy_OlderSourceStore_IsMigratedThenCopied()
    {
        var path = OlderStore("old.db", 3);

        await CopyIntoFreshDatabaseAsync(path, (result, pg) =>
        {
            Assert.True(result.Code == 0, result.Output + result.Error);
            using var source = Sqlite(path);
            Assert.Equal(MigrationRunner.LoadMigrations().Max(m => m.Version), source.ExecuteScalar<long>("SELECT MAX(version) FROM schema_version"));
            Assert.Equal(("old-1", 1500L), pg.QuerySingle<(string, long)>("SELECT id, duration_ms FROM runs"));
            Assert.Equal(1L, pg.ExecuteScalar<long>("SELECT SUM(n) FROM run_counts WHERE tenant_id = 'acme' AND status = 'completed'"));
        });
    }

    [Fact]
    public async Task Copy_SourceColumnTheTargetLacks_FailsNamingItAndWritesNothing()
    {
        var path = OlderStore("extra-column.db", 6);
        using (var source = Sqlite(path)) source.Execute("ALTER TABLE runs ADD COLUMN colour TEXT");

        await CopyIntoFreshDatabaseAsync(path, (result, pg) =>
        {
            Assert.Equal(1, result.Code);
            Assert.Contains("runs.colour has no column in the target", result.Error);
            Assert.Equal(0L, pg.ExecuteScalar<long>("SELECT COUNT(*) FROM runs"));
        });
    }

    [Fact]
    public async Task Copy_FailingHalfway_LeavesTheTargetEmpty()
    {
        var path = OlderStore("orphan.db", 6);
        using (var store = new Database(path))
            await new MigrationRunner(store, Microsoft.Extensions.Logging.Abstractions.NullLogger<MigrationRunner>.Instance).ApplyAsync();
        SqliteConnection.ClearAllPools();
        // A step whose run is gone (written with SQLite's foreign keys off), which PostgreSQL refuses.
        using (var source = Sqlite(path))
            source.Execute("PRAGMA foreign_keys=OFF; INSERT INTO steps (tenant_id, run_id, step_id, seq, status, updated_at) VALUES ('acme', 'gone', 's', 0, 'completed', '2026-01-02T03:04:05.000Z')");

        await CopyIntoFreshDatabaseAsync(path, (result, pg) =>
        {
            Assert.Equal(1, result.Code);
            Assert.Contains("  runs: 1 rows", result.Output);
            Assert.Contains("Key (tenant_id, run_id)=(acme, gone) is not present in table \"runs\"", result.Error);
            Assert.Contains("Nothing was copied to PostgreSQL database", result.Error);
            Assert.Equal(0L, pg.ExecuteScalar<long>("SELECT COUNT(*) FROM runs"));
            Assert.Equal(0L, pg.ExecuteScalar<long>("SELECT COUNT(*) FROM run_counts"));
        });
    }

    [Fact]
    public async Task Copy_SameIdInTwoTenants_BothCopiedEachWithItsOwnSteps()
    {
        var path = Path.Combine(fixture.Directory, "same-id.db");
        using (var factory = new StoreAt(path))
        {
            var client = factory.CreateClient();
            foreach (var tenant in new[] { "acme", "globex" })
                await client.CreateRunAsync(new { id = "twin", tenantId = tenant, workflowName = "wf-" + tenant, steps = new[] { new { stepId = "s-" + tenant } } });
        }
        SqliteConnection.ClearAllPools();

        await CopyIntoFreshDatabaseAsync(path, (result, pg) =>
        {
            Assert.True(result.Code == 0, result.Output + result.Error);
            Assert.Equal(["acme|wf-acme|s-acme", "globex|wf-globex|s-globex"], pg.Query<string>(
                "SELECT r.tenant_id || '|' || r.workflow_name || '|' || s.step_id FROM runs r JOIN steps s ON s.tenant_id = r.tenant_id AND s.run_id = r.id WHERE r.id = 'twin' ORDER BY 1"));
        });
    }

    private sealed class StoreAt(string path) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:Database"] = path };
    }

    /// The app started on a copied store (another copy: the app's background work must not touch the fixture's).
    private sealed class CopiedStoreFactory(string connectionString) : RunMonitorFactory(connectionString);

    [Fact]
    public async Task App_OnTheCopiedStore_AnswersTheSameRunListStatsAndArtifactBytes()
    {
        var target = PostgresServer.CreateDatabase();
        try
        {
            Assert.Equal(0, (await RunAsync("--from", fixture.SourcePath, "--to", target)).Code);
            using var factory = new CopiedStoreFactory(target);
            factory.Clock.Set(fixture.ClockAtEnd);
            var client = factory.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.KeySecret);

            var run = await client.GetStringAsync("/api/runs/copy-a");
            var list = await client.GetStringAsync("/api/runs");
            var stats = await client.GetStringAsync("/api/admin/runs/stats?period=30d");
            var bytes = await client.GetByteArrayAsync($"/api/artifacts/{fixture.ArtifactId}");
            var lost = await client.GetAsync($"/api/artifacts/{fixture.MissingArtifactId}");

            Assert.Equal(fixture.RunJsonBefore, run);
            Assert.Equal(fixture.ListJsonBefore, list);
            Assert.Equal(fixture.StatsJsonBefore, stats);
            Assert.Equal(fixture.ArtifactBytes, bytes);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, lost.StatusCode);
        }
        finally
        {
            PostgresServer.DropDatabase(target);
        }
    }

    [Fact]
    public async Task Copy_TargetUnreachable_Exit1NamingTheServerNotThePassword()
    {
        var (code, _, error) = await RunAsync("--from", fixture.SourcePath, "--to", $"Host=127.0.0.1;Port=1;Database=nowhere;Username=u;Password={CopyStoreFixture.Password}");

        Assert.Equal(1, code);
        Assert.Contains("Nothing was copied to PostgreSQL database nowhere on 127.0.0.1:1.", error);
        Assert.DoesNotContain(CopyStoreFixture.Password, error);
    }
}
