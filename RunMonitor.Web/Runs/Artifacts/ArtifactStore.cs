using System.Data;
using System.Security.Cryptography;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Options;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// Artifacts: metadata rows in `artifacts`, the bytes where the dialect's `IArtifactBytes` keeps them (files beside a
/// SQLite store, rows of `artifact_blobs` on PostgreSQL), content-addressed so identical bytes are stored once.
public sealed class ArtifactStore(Database database, IArtifactBytes bytes, RunWrites writes, WorkerBook workers, IOptions<ArtifactOptions> options,
    TimeProvider time, RunMonitor.Web.Webhooks.WebhookOutbox webhooks) : IRunPurgeListener
{
    public string Root => bytes.Root;

    public long MaxBytes => options.Value.MaxBytes;

    public string PathFor(string sha256) => ArtifactFolder.PathIn(Root, sha256);

    /// Copies `body` to a temp file beside the blobs while hashing it; null when it exceeds `maxBytes`
    /// (reading stops there, so an oversized upload never fills the disk).
    public async Task<StagedBlob?> StageAsync(Stream body, long maxBytes, CancellationToken ct)
    {
        var tempDirectory = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(tempDirectory);
        var tempPath = Path.Combine(tempDirectory, Guid.NewGuid().ToString("N"));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long size = 0;
        try
        {
            await using (var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                    {
                        file.Close();
                        File.Delete(tempPath);
                        return null;
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
            return new StagedBlob(tempPath, Convert.ToHexStringLower(hash.GetHashAndReset()), size);
        }
        catch
        {
            try { File.Delete(tempPath); } catch (IOException) { }
            throw;
        }
    }

    private const string InsertArtifact = """
        INSERT INTO artifacts (id, run_id, step_id, tenant_id, name, content_type, size, sha256, created_at)
        VALUES (@Id, @RunId, @StepId, @TenantId, @Name, @ContentType, @Size, @Sha256, @CreatedAt)
        """;

    /// Null when the run (visible to `tenant`) or its step does not exist.
    public async Task<ArtifactRow?> AddAsync(string? tenant, string runId, string stepId, string name, string contentType,
        StagedBlob blob, CancellationToken ct = default)
    {
        return await database.WriteAsync(async (connection, tx) =>
        {
            var run = await writes.GetAsync(connection, tx, tenant, runId);
            if (run is null || await RunRows.GetStepAsync(connection, tx, run, stepId) is null) return null;
            await bytes.StoreAsync(connection, tx, blob, ct);
            var now = time.GetUtcNow();
            var row = new ArtifactRow
            {
                Id = RunService.NewId(now), RunId = runId, StepId = stepId, TenantId = run.TenantId, Name = name,
                ContentType = contentType, Size = blob.Size, Sha256 = blob.Sha256, CreatedAt = DbTime.ToDb(now),
            };
            await connection.ExecuteAsync(InsertArtifact, row, tx);
            await RunWrites.RenewLeaseAsync(connection, tx, run, now);
            await workers.RunWrittenAsync(connection, tx, run, run, now);
            return row;
        }, ct);
    }

    private const string ArtifactColumns = """
        id AS Id, run_id AS RunId, step_id AS StepId, tenant_id AS TenantId, name AS Name,
        content_type AS ContentType, size AS Size, sha256 AS Sha256, created_at AS CreatedAt
        """;

    /// A step's artifacts, oldest first: `ListAsync`, and the run page's batch (`RunViews.GetRunPageAsync`).
    public const string SelectForStep = $"SELECT {ArtifactColumns} FROM artifacts WHERE tenant_id = @TenantId AND run_id = @RunId AND step_id = @StepId ORDER BY created_at, rowid";

    /// The caller has already checked that the run is visible to them.
    public async Task<IReadOnlyList<ArtifactRow>> ListAsync(RunRow run, string stepId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<ArtifactRow>(SelectForStep, new { run.TenantId, RunId = run.Id, StepId = stepId })).ToList();
    }

    private const string SelectById = $"SELECT {ArtifactColumns} FROM artifacts WHERE id = @Id";

    /// Another tenant's artifact is "not found", like its run.
    public async Task<ArtifactRow?> GetAsync(string? tenant, string id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<ArtifactRow>(SelectById, new { Id = id });
        return row is not null && (tenant is null || row.TenantId == tenant) ? row : null;
    }

    /// The bytes, or null when they are gone (a deleted run, a hand-cleaned folder).
    public Task<Stream?> OpenReadAsync(ArtifactRow artifact, CancellationToken ct = default) => bytes.OpenReadAsync(artifact, ct);

    private const string SelectRunToDelete = "SELECT pk AS Pk, tenant_id AS TenantId, id AS Id FROM runs WHERE tenant_id = @TenantId AND id = @Id";
    private const string DeleteRun = "DELETE FROM runs WHERE pk = @Pk";

    /// Deletes a run with its steps, errors and artifact rows (ON DELETE CASCADE) and its webhook deliveries (each a
    /// copy of the run), then the artifact files no other row names. False when the run is not there (or is another
    /// tenant's).
    public async Task<bool> DeleteRunAsync(string? tenant, string runId, CancellationToken ct = default)
    {
        return await database.WriteAsync(async (connection, tx) =>
        {
            if (await writes.GetAsync(connection, tx, tenant, runId) is not { } run) return false;
            var deleted = await connection.QuerySingleAsync<DeletedRun>(SelectRunToDelete, new { run.TenantId, run.Id }, tx);
            await DeleteFilesOfRunsAsync(connection, tx, [deleted]);
            await webhooks.DeleteOfRunsAsync(connection, tx, [deleted], ct);
            await connection.ExecuteAsync(DeleteRun, new { deleted.Pk }, tx);
            return true;
        }, ct);
    }

    /// In the writer's transaction, before these runs' rows are deleted: deletes the files that no
    /// other run's artifact names. Inside the writer gate no upload can be naming such a file right now;
    /// should the commit then fail, the rows outlive the file and a download answers 404, never wrong bytes.
    public Task DeleteFilesOfRunsAsync(IDbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs) =>
        bytes.DeleteUnsharedAsync(connection, tx, runs.Select(r => r.Pk).ToArray());

    /// Retention purges runs in batches: their artifact files go with them.
    Task IRunPurgeListener.BeforeDeleteAsync(DbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs, CancellationToken ct) =>
        DeleteFilesOfRunsAsync(connection, tx, runs);
}
