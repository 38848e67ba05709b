using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Infrastructure;

/// Artifact bytes as the app's store keeps them: a file beside the SQLite database, a row of artifact_blobs in PostgreSQL.
public static class StoredBlobs
{
    /// The bytes kept under a hash (empty when there are none).
    public static async Task<byte[]> StoredBytesAsync(this RunMonitorFactory factory, string sha)
    {
        var path = factory.Services.GetRequiredService<ArtifactStore>().PathFor(sha);
        if (factory.Store == TestStore.Sqlite) return File.Exists(path) ? await File.ReadAllBytesAsync(path) : [];
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<byte[]>("SELECT content FROM artifact_blobs WHERE sha256 = @Sha", new { Sha = sha }) ?? [];
    }

    /// How many copies of the bytes are kept under a hash (content addressing keeps at most one).
    public static async Task<long> StoredCopiesAsync(this RunMonitorFactory factory, string sha)
    {
        if (factory.Store == TestStore.Sqlite) return File.Exists(factory.Services.GetRequiredService<ArtifactStore>().PathFor(sha)) ? 1 : 0;
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM artifact_blobs WHERE sha256 = @Sha", new { Sha = sha });
    }
}
