using Dapper;
using Microsoft.Data.Sqlite;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// Migration 0015 on a store an older RunMonitor filled: the webhook deliveries of runs deleted before (retention left
/// them, each a copy of its run) go; a live run's and an alert event's stay.
public sealed class WebhookOrphansMigrationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runmonitor-tests", "m15-" + Guid.NewGuid().ToString("N"));

    private string DbPath => Path.Combine(_directory, "store.db");

    public WebhookOrphansMigrationTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private sealed class StoreFactory(string path) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:Database"] = path };
    }

    [Fact]
    public async Task Migrate_DeliveriesOfRunsGone_Deleted_OthersKept()
    {
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            connection.Execute("PRAGMA journal_mode=WAL; CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
            foreach (var (v, name, sql) in MigrationRunner.LoadMigrations().Where(m => m.Version <= 14))
            {
                await MigrationRunner.ApplyOneAsync(connection, null, StoreProvider.Sqlite, v, sql);
                connection.Execute("INSERT INTO schema_version VALUES (@V, @Name, '2026-01-01T00:00:00Z')", new { V = v, Name = name });
            }
            connection.Execute("""
                INSERT INTO runs (id, tenant_id, workflow_name, name, status, created_at, updated_at)
                VALUES ('live', 'acme', 'nightly', 'Live', 'completed', '2026-11-21T08:00:00.000Z', '2026-11-21T08:00:00.000Z');
                INSERT INTO webhook_deliveries (run_id, tenant_id, event, webhook_index, url, payload, status, next_attempt_at, created_at) VALUES
                    ('live', 'acme', 'run.completed', 0, 'http://127.0.0.1:9/hook', '{}', 'delivered', '2026-11-21T08:00:00.000Z', '2026-11-21T08:00:00.000Z'),
                    ('live', 'globex', 'run.completed', 0, 'http://127.0.0.1:9/hook', '{}', 'delivered', '2026-11-21T08:00:00.000Z', '2026-11-21T08:00:00.000Z'),
                    ('gone', 'acme', 'run.failed', 0, 'http://127.0.0.1:9/hook', '{"secret":"x"}', 'delivered', '2026-11-21T08:00:00.000Z', '2026-11-21T08:00:00.000Z'),
                    ('', '', 'alert.firing', 0, 'http://127.0.0.1:9/hook', '{}', 'delivered', '2026-11-21T08:00:00.000Z', '2026-11-21T08:00:00.000Z');
                """);
        }

        using var factory = new StoreFactory(DbPath);
        await factory.CreateClient().GetAsync("/api/runs");

        using var after = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        after.Open();
        Assert.Equal(["/alert.firing", "acme/live"], after.Query<string>("SELECT tenant_id || '/' || (CASE run_id WHEN '' THEN event ELSE run_id END) FROM webhook_deliveries ORDER BY 1"));
    }
}
