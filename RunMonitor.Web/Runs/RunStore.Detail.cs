using Dapper;

namespace RunMonitor.Web.Runs;

/// What the run page needs beside the run: one step, and the runs that retried it.
public sealed partial class RunStore
{
    public async Task<StepRow?> GetStepAsync(string runId, string stepId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await GetStepAsync(connection, null, runId, stepId);
    }

    private const string SelectRetries = $"SELECT {ListColumns} FROM runs WHERE retry_of = @Id AND tenant_id = @Tenant ORDER BY created_at, id";
    private const string SelectRetriesAll = $"SELECT {ListColumns} FROM runs WHERE retry_of = @Id ORDER BY created_at, id";

    /// Later runs whose `retry_of` is this run, oldest first, in the caller's tenant.
    public async Task<IReadOnlyList<RunRow>> RetriesAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<RunRow>(tenant is null ? SelectRetriesAll : SelectRetries, new { Id = id, Tenant = tenant })).ToList();
    }
}
