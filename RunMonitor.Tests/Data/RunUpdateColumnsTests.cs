using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// An update sets the columns it changes, no others (`RunWrites.UpdateRunAsync`): SQLite rewrites the entries of every
/// index on a column an UPDATE names, changed or not. A trigger on `UPDATE OF status` fires whenever the statement names
/// `status`, so it tells which updates named it.
public sealed class RunUpdateColumnsTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<long> StatusNamedAsync(string id)
    {
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM status_named WHERE run_id = @id", new { id });
    }

    [Fact]
    public async Task Patch_ProgressOfARunningRun_NamesNoStatus_AStatusChangeDoes()
    {
        await factory.Services.GetRequiredService<Database>().WriteAsync((c, tx) => c.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS status_named (run_id TEXT);
            CREATE TRIGGER IF NOT EXISTS trg_status_named AFTER UPDATE OF status ON runs BEGIN INSERT INTO status_named VALUES (NEW.id); END;
            """, transaction: tx));
        await _client.CreateRunAsync(new { id = "upd-cols", workflowName = "w", status = "running" });

        var progress = await _client.PatchJsonAsync("/api/runs/upd-cols", new { context = new { page = 3 }, metrics = new { targetsProcessed = 30 } });
        var namedByProgress = await StatusNamedAsync("upd-cols");
        var done = await _client.PatchJsonAsync("/api/runs/upd-cols", new { status = "completed" });

        Assert.Equal(HttpStatusCode.OK, progress.StatusCode);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal(0, namedByProgress);
        Assert.Equal(1, await StatusNamedAsync("upd-cols"));
        var run = await _client.GetJsonAsync("/api/runs/upd-cols");
        Assert.Equal("completed", (string?)run["status"]);
        Assert.Equal(30, (long)run["metrics"]!["targetsProcessed"]!);
        Assert.Equal(3, (long)run["context"]!["page"]!);
    }
}
