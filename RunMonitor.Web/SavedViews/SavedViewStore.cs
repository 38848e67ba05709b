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

    private const string SelectNamed = $"SELECT {ViewColumns} FROM saved_views WHERE tenant_id = @Tenant AND name = @Name";

    private const string InsertView = """
        INSERT INTO saved_views (tenant_id, name, query, created_by, created_at)
        VALUES (@TenantId, @Name, @Query, @CreatedBy, @CreatedAt)
        RETURNING id
        """;

    // A view saved again under its name: the same id (its links stay), the new query, who saved it and when.
    private const string ReplaceView = """
        UPDATE saved_views SET query = @Query, created_by = @CreatedBy, created_at = @CreatedAt
        WHERE tenant_id = @TenantId AND id = @Id
        """;

    /// Created with the new view, or (`replace`) the tenant's view of that name saved again with the new query (Ok). A
    /// conflict when the name is taken and `replace` is not asked for (its Value: the view that has the name), or when
    /// the tenant keeps the most views it may.
    public async Task<WriteResult<SavedViewRow>> SaveAsync(string tenant, string name, string query, string createdBy, bool replace, CancellationToken ct = default)
    {
        var row = new SavedViewRow { TenantId = tenant, Name = name, Query = query, CreatedBy = createdBy, CreatedAt = DbTime.ToDb(time.GetUtcNow()) };
        return await database.WriteAsync(async (connection, tx) =>
        {
            // Two saves of one tenant take turns (PostgreSQL's concurrent writers), so the count and the name check hold.
            if (dialect.LockKey is { } lockKey) await connection.ExecuteAsync(lockKey, new { LockKey = "saved_views:" + tenant }, tx);
            if (await connection.QuerySingleOrDefaultAsync<SavedViewRow>(SelectNamed, new { Tenant = tenant, Name = name }, tx) is { } taken)
            {
                if (!replace) return new WriteResult<SavedViewRow>(WriteOutcome.Conflict, taken, $"A view named “{name}” already exists — choose another name, or replace it.");
                var replaced = row with { Id = taken.Id };
                await connection.ExecuteAsync(ReplaceView, replaced, tx);
                return new WriteResult<SavedViewRow>(WriteOutcome.Ok, replaced);
            }
            if (await connection.ExecuteScalarAsync<long>(CountViews, new { Tenant = tenant }, tx) >= SavedViewRules.MaxPerTenant)
                return WriteResult<SavedViewRow>.Conflict($"this tenant keeps {SavedViewRules.MaxPerTenant} saved views, the most it may; delete one first");
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
