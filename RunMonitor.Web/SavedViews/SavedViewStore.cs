using Dapper;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.SavedViews;

/// Every statement about saved views; each is scoped by the tenant whose views they are (`SavedViewRules.ScopeOf`).
public sealed class SavedViewStore(Database database, ISqlDialect dialect, TimeProvider time)
{
    private const string ViewColumns = "id AS Id, tenant_id AS TenantId, name AS Name, query AS Query, created_by AS CreatedBy, created_at AS CreatedAt";

    private const string SelectViews = $"SELECT {ViewColumns} FROM saved_views WHERE tenant_id = @Tenant ORDER BY name, id";

    /// The tenant's views, by name.
    public async Task<IReadOnlyList<SavedViewRow>> ListAsync(string tenant, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<SavedViewRow>(new CommandDefinition(SelectViews, new { Tenant = tenant }, cancellationToken: ct))).ToList();
    }

    private const string CountViews = "SELECT COUNT(*) FROM saved_views WHERE tenant_id = @Tenant";

    private const string CountNamed = "SELECT COUNT(*) FROM saved_views WHERE tenant_id = @Tenant AND name = @Name";

    private const string InsertView = """
        INSERT INTO saved_views (tenant_id, name, query, created_by, created_at)
        VALUES (@TenantId, @Name, @Query, @CreatedBy, @CreatedAt)
        RETURNING id
        """;

    /// Created with the new view; a conflict when the tenant keeps the most views it may, or one of that name.
    public async Task<WriteResult<SavedViewRow>> CreateAsync(string tenant, string name, string query, string createdBy, CancellationToken ct = default)
    {
        var row = new SavedViewRow { TenantId = tenant, Name = name, Query = query, CreatedBy = createdBy, CreatedAt = DbTime.ToDb(time.GetUtcNow()) };
        return await database.WriteAsync(async (connection, tx) =>
        {
            // Two saves of one tenant take turns (PostgreSQL's concurrent writers), so the count and the name check hold.
            if (dialect.LockKey is { } lockKey) await connection.ExecuteAsync(lockKey, new { LockKey = "saved_views:" + tenant }, tx);
            if (await connection.ExecuteScalarAsync<long>(CountViews, new { Tenant = tenant }, tx) >= SavedViewRules.MaxPerTenant)
                return WriteResult<SavedViewRow>.Conflict($"this tenant keeps {SavedViewRules.MaxPerTenant} saved views, the most it may; delete one first");
            if (await connection.ExecuteScalarAsync<long>(CountNamed, new { Tenant = tenant, Name = name }, tx) > 0)
                return WriteResult<SavedViewRow>.Conflict($"A view named “{name}” already exists — choose another name, or delete that view first.");
            var id = await connection.ExecuteScalarAsync<long>(InsertView, row, tx);
            return new WriteResult<SavedViewRow>(WriteOutcome.Created, row with { Id = id });
        }, ct);
    }

    private const string DeleteView = "DELETE FROM saved_views WHERE tenant_id = @Tenant AND id = @Id";

    /// True when the tenant had that view and it is gone.
    public async Task<bool> DeleteAsync(string tenant, long id, CancellationToken ct = default) =>
        await database.WriteAsync(async (connection, tx) =>
            await connection.ExecuteAsync(DeleteView, new { Tenant = tenant, Id = id }, tx) == 1, ct);
}
