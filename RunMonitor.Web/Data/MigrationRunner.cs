using System.Reflection;
using Dapper;

namespace RunMonitor.Web.Data;

/// Applies the embedded, numbered `Data/Migrations/NNNN_name.sql` files in order, each in its own transaction.
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

    public static IReadOnlyList<(int Version, string Name, string Sql)> LoadMigrations()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        const string prefix = "RunMonitor.Web.Data.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
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

    public async Task ApplyAsync(CancellationToken ct = default)
    {
        await using (var connection = await database.OpenAsync(ct))
        {
            // WAL lets readers run while the one writer commits; it persists in the file.
            await connection.ExecuteAsync("PRAGMA journal_mode=WAL");
            await connection.ExecuteAsync(CreateVersionTable);
        }

        foreach (var (version, name, sql) in LoadMigrations())
        {
            var applied = await database.WriteAsync(async (connection, tx) =>
            {
                var done = (await connection.QueryAsync<long>(SelectApplied, transaction: tx)).ToHashSet();
                if (done.Contains(version)) return false;
                await connection.ExecuteAsync(sql, transaction: tx);
                await connection.ExecuteAsync(InsertVersion,
                    new { Version = version, Name = name, AppliedAt = DateTimeOffset.UtcNow.ToString("O") }, tx);
                return true;
            }, ct);
            if (applied) logger.LogInformation("Applied migration {Name}", name);
        }
    }
}
