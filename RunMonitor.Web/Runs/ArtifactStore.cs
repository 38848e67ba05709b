using System.Data;
using System.Security.Cryptography;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Npgsql;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// Artifacts: metadata rows in `artifacts`, bytes as content-addressed files in `<database dir>/artifacts/ab/cdef…`.
/// Files rather than BLOB columns because artifacts run to tens of MiB: they stream from disk to the
/// response without passing through SQLite's page cache or the one writer lock, they never bloat the
/// database file or its WAL, and identical bytes (a re-run uploading the same output) are stored once.
/// The writer gate serialises "put file + insert row" and "delete rows + delete unreferenced files",
/// so a file is never removed while a new row is about to name it.
/// With PostgreSQL the bytes are rows of `artifact_blobs` instead, so every instance serves every artifact;
/// blob and artifact row are written, and deleted, in one transaction. Uploads are staged in a temp folder.
public sealed class ArtifactStore(Database database, IOptions<ArtifactOptions> options, TimeProvider time) : IRunPurgeListener
{
    public string Root { get; } = database.IsPostgres
        ? Path.Combine(Path.GetTempPath(), "runmonitor-artifacts")
        : Path.Combine(Path.GetDirectoryName(database.Path)!, "artifacts");

    public long MaxBytes => options.Value.MaxBytes;

    public string PathFor(string sha256) => Path.Combine(Root, sha256[..2], sha256[2..]);

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
            var run = await RunStore.GetAsync(connection, tx, tenant, runId);
            if (run is null || await RunStore.GetStepAsync(connection, tx, run, stepId) is null) return null;
            if (database.IsPostgres) await PutBlobAsync((NpgsqlConnection)connection, tx, blob, ct);
            else
            {
                var target = PathFor(blob.Sha256);
                if (!File.Exists(target))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Move(blob.TempPath, target);
                }
            }
            var now = time.GetUtcNow();
            var row = new ArtifactRow
            {
                Id = RunService.NewId(now), RunId = runId, StepId = stepId, TenantId = run.TenantId, Name = name,
                ContentType = contentType, Size = blob.Size, Sha256 = blob.Sha256, CreatedAt = DbTime.ToDb(now),
            };
            await connection.ExecuteAsync(InsertArtifact, row, tx);
            await RunStore.RenewLeaseAsync(connection, tx, run, now);
            return row;
        }, ct);
    }

    private const string ArtifactColumns = """
        id AS Id, run_id AS RunId, step_id AS StepId, tenant_id AS TenantId, name AS Name,
        content_type AS ContentType, size AS Size, sha256 AS Sha256, created_at AS CreatedAt
        """;

    private const string SelectForStep = $"SELECT {ArtifactColumns} FROM artifacts WHERE tenant_id = @TenantId AND run_id = @RunId AND step_id = @StepId ORDER BY created_at, rowid";

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

    private const string InsertBlob = "INSERT INTO artifact_blobs (sha256, content) VALUES (@Sha256, @Content) ON CONFLICT (sha256) DO NOTHING";

    /// Streams the staged file into `artifact_blobs` (identical bytes are stored once). The staged file stays
    /// where it is (its owner deletes it), so a write the store retries can read it again.
    private static async Task PutBlobAsync(NpgsqlConnection connection, IDbTransaction tx, StagedBlob blob, CancellationToken ct)
    {
        await using var content = new FileStream(blob.TempPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        await using var command = new NpgsqlCommand(InsertBlob, connection, (NpgsqlTransaction)tx);
        command.Parameters.AddWithValue("Sha256", blob.Sha256);
        command.Parameters.Add(new NpgsqlParameter("Content", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = content, Size = checked((int)blob.Size) });
        await command.ExecuteNonQueryAsync(ct);
    }

    private const string SelectBlob = "SELECT content FROM artifact_blobs WHERE sha256 = @Sha256";

    /// The bytes, or null when they are gone (a deleted run, a hand-cleaned folder).
    public async Task<Stream?> OpenReadAsync(ArtifactRow artifact, CancellationToken ct = default)
    {
        if (!database.IsPostgres) return OpenFile(artifact);
        var connection = (NpgsqlConnection)await database.OpenAsync(ct);
        try
        {
            var command = new NpgsqlCommand(SelectBlob, connection);
            command.Parameters.AddWithValue("Sha256", artifact.Sha256);
            var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, ct);
            if (!await reader.ReadAsync(ct))
            {
                await reader.DisposeAsync();
                await command.DisposeAsync();
                await connection.DisposeAsync();
                return null;
            }
            return new OwningStream(reader.GetStream(0), reader, command, connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private Stream? OpenFile(ArtifactRow artifact)
    {
        var path = PathFor(artifact.Sha256);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    // The runs go by row number: their ids alone may also be other tenants' runs, whose artifacts stay.
    private const string OfRuns = "JOIN runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id";
    private const string SelectRunsHashes = $"SELECT DISTINCT a.sha256 FROM artifacts a {OfRuns} WHERE r.pk IN @Pks";
    private const string DeleteUnsharedBlobs = $"""
        DELETE FROM artifact_blobs
        WHERE sha256 IN (SELECT a.sha256 FROM artifacts a {OfRuns} WHERE r.pk IN @Pks)
          AND NOT EXISTS (SELECT 1 FROM artifacts a {OfRuns} WHERE a.sha256 = artifact_blobs.sha256 AND r.pk NOT IN @Pks)
        """;
    private const string SelectRunToDelete = "SELECT pk AS Pk, tenant_id AS TenantId, id AS Id FROM runs WHERE tenant_id = @TenantId AND id = @Id";
    private const string DeleteRun = "DELETE FROM runs WHERE pk = @Pk";
    private const string HashInUseElsewhere = $"SELECT EXISTS (SELECT 1 FROM artifacts a {OfRuns} WHERE a.sha256 = @Sha256 AND r.pk NOT IN @Pks)";

    /// Deletes a run with its steps, errors and artifact rows (ON DELETE CASCADE), then the artifact
    /// files no other row names. False when the run is not there (or is another tenant's).
    public async Task<bool> DeleteRunAsync(string? tenant, string runId, CancellationToken ct = default)
    {
        return await database.WriteAsync(async (connection, tx) =>
        {
            if (await RunStore.GetAsync(connection, tx, tenant, runId) is not { } run) return false;
            var deleted = await connection.QuerySingleAsync<DeletedRun>(SelectRunToDelete, new { run.TenantId, run.Id }, tx);
            await DeleteFilesOfRunsAsync(connection, tx, [deleted]);
            await connection.ExecuteAsync(DeleteRun, new { deleted.Pk }, tx);
            return true;
        }, ct);
    }

    /// In the writer's transaction, before these runs' rows are deleted: deletes the files that no
    /// other run's artifact names. Inside the writer gate no upload can be naming such a file right now;
    /// should the commit then fail, the rows outlive the file and a download answers 404, never wrong bytes.
    public async Task DeleteFilesOfRunsAsync(IDbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs)
    {
        var pks = runs.Select(r => r.Pk).ToArray();
        if (database.IsPostgres)
        {
            await connection.ExecuteAsync(connection.Lists(DeleteUnsharedBlobs), new { Pks = pks }, tx);
            return;
        }
        var hashes = (await connection.QueryAsync<string>(SelectRunsHashes, new { Pks = pks }, tx)).ToList();
        foreach (var sha in hashes)
        {
            if (await connection.ExecuteScalarAsync<bool>(HashInUseElsewhere, new { Sha256 = sha, Pks = pks }, tx)) continue;
            try { File.Delete(PathFor(sha)); } catch (IOException) { }
        }
    }

    /// Retention purges runs in batches: their artifact files go with them.
    Task IRunPurgeListener.BeforeDeleteAsync(DbConnection connection, IDbTransaction tx, IReadOnlyList<DeletedRun> runs, CancellationToken ct) =>
        DeleteFilesOfRunsAsync(connection, tx, runs);

    /// The blob's stream, and what must stay open while the response reads it: all closed with the stream.
    private sealed class OwningStream(Stream inner, params IAsyncDisposable[] owners) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            foreach (var owner in owners) await owner.DisposeAsync();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                foreach (var owner in owners) owner.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            base.Dispose(disposing);
        }
    }
}
