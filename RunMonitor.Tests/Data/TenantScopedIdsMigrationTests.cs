using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// Migration 0010 on a SQLite store an older RunMonitor filled: runs, steps, run_errors and artifacts are rebuilt
/// with tenant-scoped keys, keeping every row, every column (0009's and any another migration adds), nullable
/// topics, the derived counters and the name index, and the triggers keep working.
public sealed class TenantScopedIdsMigrationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runmonitor-tests", "m10-" + Guid.NewGuid().ToString("N"));

    private string DbPath => Path.Combine(_directory, "store.db");

    public TenantScopedIdsMigrationTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    /// The store as migration 0009 left it, with two runs, their steps, errors (one without a topic) and an artifact,
    /// and a column some other migration might have added to runs and to steps.
    private void OlderStore()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        connection.Execute("PRAGMA journal_mode=WAL; CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        foreach (var (v, name, sql) in MigrationRunner.LoadMigrations().Where(m => m.Version <= 9))
        {
            connection.Execute(sql);
            connection.Execute("INSERT INTO schema_version VALUES (@V, @Name, '2026-01-01T00:00:00Z')", new { V = v, Name = name });
        }
        connection.Execute("""
            ALTER TABLE runs ADD COLUMN later_note TEXT;
            ALTER TABLE steps ADD COLUMN later_flag TEXT DEFAULT 'none';
            INSERT INTO runs (id, tenant_id, workflow_name, name, status, created_at, updated_at, workflow_version, later_note)
            VALUES ('m-1', 'acme', 'nightly', 'Nightly Acme', 'failed', '2026-11-21T08:00:00.000Z', '2026-11-21T08:00:00.000Z', 'v7', 'kept'),
                   ('m-2', 'globex', 'nightly', 'Nightly Globex', 'completed', '2026-11-21T09:00:00.000Z', '2026-11-21T09:00:00.000Z', NULL, NULL);
            INSERT INTO steps (run_id, step_id, seq, status, updated_at, input_hash) VALUES
                ('m-1', 'fetch', 0, 'failed', '2026-11-21T08:00:00.000Z', 'h1'), ('m-2', 'fetch', 0, 'completed', '2026-11-21T09:00:00.000Z', 'h2');
            INSERT INTO run_errors (run_id, seq, topic, error) VALUES ('m-1', 0, 'feed', 'timeout'), ('m-1', 1, NULL, 'database down');
            INSERT INTO artifacts (id, run_id, step_id, tenant_id, name, content_type, size, sha256, created_at)
            VALUES ('a-1', 'm-1', 'fetch', 'acme', 'out.txt', 'text/plain', 3, 'abc', '2026-11-21T08:00:00.000Z');
            """);
    }

    private sealed class StoreFactory(string path) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:Database"] = path };
    }

    [Fact]
    public async Task Migrate_FilledStore_KeepsEveryRowAndColumnAndTheKeysCarryTheTenant()
    {
        OlderStore();
        using var factory = new StoreFactory(DbPath);
        var client = factory.CreateClient();

        // The app migrated it: same id in another tenant now works, and the old rows read as before.
        var squat = await client.PostAsync("/api/runs", System.Net.Http.Json.JsonContent.Create(new { id = "m-1", tenantId = "globex", workflowName = "nightly" }));
        var acme = await client.GetJsonAsync("/api/runs/m-1?tenant=acme");
        var steps = await client.GetJsonAsync("/api/runs/m-1/steps?tenant=acme");
        var found = await client.GetJsonAsync("/api/runs?q=Nightly%20Acme");

        Assert.Equal(System.Net.HttpStatusCode.Created, squat.StatusCode);
        Assert.Equal("failed", acme["status"]!.GetValue<string>());
        Assert.Equal("timeout", acme["errors"]![0]!["error"]!.GetValue<string>());
        Assert.Equal("fetch", steps[0]!["stepId"]!.GetValue<string>());
        Assert.Equal(["m-1"], found["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        Assert.Equal(("v7", "kept", "h1", "none", "acme"), connection.QuerySingle<(string, string, string, string, string)>(
            "SELECT r.workflow_version, r.later_note, s.input_hash, s.later_flag, s.tenant_id FROM runs r JOIN steps s ON s.tenant_id = r.tenant_id AND s.run_id = r.id WHERE r.id = 'm-1' AND r.tenant_id = 'acme'"));
        Assert.Equal("none", connection.ExecuteScalar<string>("SELECT dflt_value FROM pragma_table_info('steps') WHERE name = 'later_flag'")!.Trim('\''));
        Assert.Equal(["acme", "acme"], connection.Query<string>("SELECT tenant_id FROM run_errors WHERE run_id = 'm-1' ORDER BY seq"));
        Assert.Equal(0L, connection.ExecuteScalar<long>("SELECT \"notnull\" FROM pragma_table_info('run_errors') WHERE name = 'topic'"));
        Assert.Null(acme["errors"]![1]!["topic"]);
        Assert.Equal(1L, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM artifacts WHERE tenant_id = 'acme' AND run_id = 'm-1'"));
        // The counters were kept by the triggers before, and the new run was counted once by the triggers put back.
        Assert.Equal(2L, connection.ExecuteScalar<long>("SELECT SUM(n) FROM run_counts WHERE workflow_name = 'nightly' AND tenant_id = 'globex'"));
        Assert.Equal("ok", connection.ExecuteScalar<string>("PRAGMA integrity_check"));
        Assert.Empty(connection.Query("PRAGMA foreign_key_check"));
        Assert.Equal(0L, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%\\_new' ESCAPE '\\'"));
    }

    [Fact]
    public async Task Migrate_DeletingARun_CascadesToItsOwnTenantsChildrenOnly()
    {
        OlderStore();
        using var factory = new StoreFactory(DbPath);
        var client = factory.CreateClient();
        await client.CreateRunAsync(new { id = "m-2", tenantId = "acme", workflowName = "nightly", steps = new[] { new { stepId = "fetch" } } });

        await factory.Services.GetRequiredService<RunMonitor.Web.Runs.ArtifactStore>().DeleteRunAsync("globex", "m-2");

        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        Assert.Equal(["acme"], connection.Query<string>("SELECT tenant_id FROM steps WHERE run_id = 'm-2'"));
        Assert.Equal(["acme"], connection.Query<string>("SELECT tenant_id FROM runs WHERE id = 'm-2'"));
    }
}
