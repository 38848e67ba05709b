using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Api;

/// A create on PostgreSQL never queues behind another transaction on its workflow's row (every run of the workflow
/// shares that row), and the row still says when the workflow's last run was reported.
public sealed class CreateOnPostgresTests(PostgresFactory factory) : IClassFixture<PostgresFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string?> LastSeenAsync(string workflow)
    {
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT last_seen_at FROM workflows WHERE tenant_id = 'default' AND workflow_name = @Workflow", new { Workflow = workflow });
    }

    [Fact]
    public async Task Create_WhileAnotherTransactionHoldsTheWorkflowRow_AnswersWithoutWaiting()
    {
        var first = await _client.CreateRunAsync(new { workflowName = "held-row" });
        var seen = await LastSeenAsync("held-row");
        Assert.Equal(first.GetProperty("createdAt").GetDateTimeOffset(), DateTimeOffset.Parse(seen!));

        await using (var holder = await factory.Services.GetRequiredService<Database>().OpenAsync())
        await using (var tx = await holder.BeginTransactionAsync())
        {
            await holder.ExecuteAsync("SELECT 1 FROM workflows WHERE tenant_id = 'default' AND workflow_name = 'held-row' FOR UPDATE", transaction: tx);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

            var response = await _client.PostAsJsonAsync("/api/runs", new { workflowName = "held-row", steps = new[] { new { stepId = "a" } } }, timeout.Token);

            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            await tx.RollbackAsync();
        }
        var third = await _client.CreateRunAsync(new { workflowName = "held-row" });
        Assert.Equal(third.GetProperty("createdAt").GetDateTimeOffset(), DateTimeOffset.Parse((await LastSeenAsync("held-row"))!));
    }

    [Fact]
    public async Task Create_NewWorkflow_InsertsItsRow()
    {
        Assert.Null(await LastSeenAsync("brand-new-workflow"));

        var run = await _client.CreateRunAsync(new { workflowName = "brand-new-workflow" });

        Assert.Equal(run.GetProperty("createdAt").GetDateTimeOffset(), DateTimeOffset.Parse((await LastSeenAsync("brand-new-workflow"))!));
    }
}
