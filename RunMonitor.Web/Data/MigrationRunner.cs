using System.Reflection;
using Dapper;

namespace RunMonitor.Web.Data;

/// Applies the embedded, numbered migrations of the store's engine in order, each in its own transaction:
/// `Data/Migrations/NNNN_name.sql` for SQLite, `Data/Migrations/Postgres/NNNN_name.sql` for PostgreSQL.
/// Instances starting together on one PostgreSQL database take turns through an advisory lock.
public sealed class MigrationRunner(Database database, ILogger<MigrationRunner> logger)
{
    private const string CreateVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )
        """;

    private const string SelectApplied = "SELECT version FROM schema_version";

    private const string InsertVersion = "INSERT INTO schema_version (version, name, applied_at) VALUES (@Version, @Name, @AppliedAt)";

    public static IReadOnlyList<(int Version, string Name, string Sql)> LoadMigrations(StoreProvider provider = StoreProvider.Sqlite)
    {
        var assembly = typeof(MigrationRunner).Assembly;
        var prefix = provider == StoreProvider.Postgres ? "RunMonitor.Web.Data.Migrations.Postgres." : "RunMonitor.Web.Data.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)
                        && char.IsAsciiDigit(n[prefix.Length]))
            .Select(n =>
            {
                var name = n[prefix.Length..^4];
                var version = int.Parse(name[..4], System.Globalization.CultureInfo.InvariantCulture);
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return (version, name, reader.ReadToEnd());
            })
            .OrderBy(m => m.version)
            .ToList();
    }

    /// One migration: its SQL, and first, for SQLite's 0010, the table rebuild SQL alone cannot write (it reads the
    /// tables' columns as they are now).
    public static async Task ApplyOneAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction? tx, StoreProvider provider, int version, string sql)
    {
        if (provider == StoreProvider.Sqlite && version == TenantScopedRunIds.Version) await TenantScopedRunIds.ApplyAsync(connection, tx);
        await connection.ExecuteAsync(sql, transaction: tx);
    }

    public async Task ApplyAsync(CancellationToken ct = default)
    {
        await using (await database.Dialect.BeginMigrationsAsync(database, ct))
        {
            await using (var connection = await database.OpenAsync(ct)) await connection.ExecuteAsync(CreateVersionTable);
            await ApplyPendingAsync(ct);
        }
    }

    private async Task ApplyPendingAsync(CancellationToken ct)
    {
        foreach (var (version, name, sql) in LoadMigrations(database.Provider))
        {
            var applied = await database.WriteAsync(async (connection, tx) =>
            {
                var done = (await connection.QueryAsync<long>(SelectApplied, transaction: tx)).ToHashSet();
                if (done.Contains(version)) return false;
                await ApplyOneAsync(connection, tx, database.Provider, version, sql);
                await connection.ExecuteAsync(InsertVersion,
                    new { Version = version, Name = name, AppliedAt = DateTimeOffset.UtcNow.ToString("O") }, tx);
                return true;
            }, ct);
            if (applied) logger.LogInformation("Applied migration {Name}", name);
        }
    }
}
