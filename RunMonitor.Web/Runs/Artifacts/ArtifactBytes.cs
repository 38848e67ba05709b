using System.Data;
using System.Data.Common;
using Dapper;
using Npgsql;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// Where artifact bytes live, chosen by the dialect at composition. Each runs inside the writer's transaction
/// that adds or deletes the rows naming them.
public interface IArtifactBytes
{
    /// The folder uploads are staged in (and, for files, the bytes kept under).
    string Root { get; }

    /// The staged upload becomes the bytes of its hash (identical bytes are kept once).
    Task StoreAsync(DbConnection connection, IDbTransaction tx, StagedBlob blob, CancellationToken ct);

    /// The bytes, or null when they are gone (a deleted run, a hand-cleaned folder).
    Task<Stream?> OpenReadAsync(ArtifactRow artifact, CancellationToken ct);

    /// Before these runs' rows are deleted: the bytes no other run's artifact names.
    Task DeleteUnsharedAsync(IDbConnection connection, IDbTransaction tx, long[] pks);
}

// The runs go by row number: their ids alone may also be other tenants' runs, whose artifacts stay.
file static class ArtifactsOfRuns
{
    public const string OfRuns = "JOIN runs r ON r.tenant_id = a.tenant_id AND r.id = a.run_id";
}

/// SQLite: content-addressed files in `<database dir>/artifacts/ab/cdef…`, or `<database file>.artifacts/ab/cdef…` when
/// another store owns `artifacts/` (`ArtifactFolder`). Files rather than BLOB columns because
/// artifacts run to tens of MiB: they stream from disk without passing through SQLite's page cache or the one
/// writer lock, and never bloat the database file or its WAL. The writer gate serialises "put file + insert row"
/// and "delete rows + delete unreferenced files", so a file is never removed while a new row is about to name it.
public sealed class FileArtifactBytes(Database database) : IArtifactBytes
{
    public string Root { get; } = ArtifactFolder.Resolve(database.Path);

    public string PathFor(string sha256) => ArtifactFolder.PathIn(Root, sha256);

    public Task StoreAsync(DbConnection connection, IDbTransaction tx, StagedBlob blob, CancellationToken ct)
    {
        var target = PathFor(blob.Sha256);
        if (!File.Exists(target))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(blob.TempPath, target);
        }
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenReadAsync(ArtifactRow artifact, CancellationToken ct)
    {
        var path = PathFor(artifact.Sha256);
        try
        {
            return Task.FromResult<Stream?>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true));
        }
        catch (FileNotFoundException) { return Task.FromResult<Stream?>(null); }
        catch (DirectoryNotFoundException) { return Task.FromResult<Stream?>(null); }
    }

    private const string SelectRunsHashes = $"SELECT DISTINCT a.sha256 FROM artifacts a {ArtifactsOfRuns.OfRuns} WHERE r.pk IN @Pks";
    private const string HashInUseElsewhere = $"SELECT EXISTS (SELECT 1 FROM artifacts a {ArtifactsOfRuns.OfRuns} WHERE a.sha256 = @Sha256 AND r.pk NOT IN @Pks)";

    /// Inside the writer gate no upload can be naming such a file right now; should the commit then fail, the rows
    /// outlive the file and a download answers 404, never wrong bytes.
    public async Task DeleteUnsharedAsync(IDbConnection connection, IDbTransaction tx, long[] pks)
    {
        var hashes = (await connection.QueryAsync<string>(SelectRunsHashes, new { Pks = pks }, tx)).ToList();
        foreach (var sha in hashes)
        {
            if (await connection.ExecuteScalarAsync<bool>(HashInUseElsewhere, new { Sha256 = sha, Pks = pks }, tx)) continue;
            try { File.Delete(PathFor(sha)); } catch (IOException) { }
        }
    }
}

/// PostgreSQL: rows of `artifact_blobs`, so every instance serves every artifact; blob and artifact row are written,
/// and deleted, in one transaction. Uploads are staged in a temp folder.
public sealed class PostgresArtifactBytes(Database database) : IArtifactBytes
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "runmonitor-artifacts");

    private const string InsertBlob = "INSERT INTO artifact_blobs (sha256, content) VALUES (@Sha256, @Content) ON CONFLICT (sha256) DO NOTHING";

    /// Streams the staged file into `artifact_blobs` (identical bytes are stored once). The staged file stays
    /// where it is (its owner deletes it), so a write the store retries can read it again.
    public async Task StoreAsync(DbConnection connection, IDbTransaction tx, StagedBlob blob, CancellationToken ct)
    {
        await using var content = new FileStream(blob.TempPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        await using var command = new NpgsqlCommand(InsertBlob, (NpgsqlConnection)connection, (NpgsqlTransaction)tx);
        command.Parameters.AddWithValue("Sha256", blob.Sha256);
        command.Parameters.Add(new NpgsqlParameter("Content", NpgsqlTypes.NpgsqlDbType.Bytea) { Value = content, Size = checked((int)blob.Size) });
        await command.ExecuteNonQueryAsync(ct);
    }

    private const string SelectLength = "SELECT octet_length(content) FROM artifact_blobs WHERE sha256 = @Sha256";

    /// A stream of the blob that knows its length and seeks (a download's range is read from its offset on the
    /// server), reading nothing until its first read.
    public async Task<Stream?> OpenReadAsync(ArtifactRow artifact, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var length = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(SelectLength, new { artifact.Sha256 }, cancellationToken: ct));
        return length is { } known ? new BlobStream(database, artifact.Sha256, known) : null;
    }

    private const string SelectBlobFrom = "SELECT substring(content FROM @From) FROM artifact_blobs WHERE sha256 = @Sha256";

    /// The blob from `Position` on: the query runs at the first read, on a connection held until the stream is disposed.
    private sealed class BlobStream(Database database, string sha256, long length) : Stream
    {
        private NpgsqlConnection? _connection;
        private NpgsqlCommand? _command;
        private NpgsqlDataReader? _reader;
        private Stream? _content;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => Seek(value, SeekOrigin.Begin);
        }

        // Once reading has begun the stream goes forward only.
        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };
            if (_content is not null && target != _position) throw new NotSupportedException("the blob is already being read");
            if (target < 0) throw new IOException("a position before the start of the blob");
            return _position = target;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= length) return 0;
            var content = _content ?? await OpenAsync(cancellationToken);
            var read = await content.ReadAsync(buffer, cancellationToken);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        private async Task<Stream> OpenAsync(CancellationToken ct)
        {
            _connection = (NpgsqlConnection)await database.OpenAsync(ct);
            _command = new NpgsqlCommand(SelectBlobFrom, _connection);
            _command.Parameters.AddWithValue("Sha256", sha256);
            _command.Parameters.AddWithValue("From", checked((int)(_position + 1)));  // bytea is at most 1 GB: an int
            _reader = await _command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, ct);
            // Deleted since its length was read (its run purged): the answer is cut off, never short and whole.
            if (!await _reader.ReadAsync(ct)) throw new IOException($"the bytes of {sha256} were deleted while being sent");
            return _content = _reader.GetStream(0);
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            var (content, reader, command, connection) = (_content, _reader, _command, _connection);
            (_content, _reader, _command, _connection) = (null, null, null, null);
            if (content is not null) await content.DisposeAsync();
            if (reader is not null) await reader.DisposeAsync();
            if (command is not null) await command.DisposeAsync();
            if (connection is not null) await connection.DisposeAsync();
            GC.SuppressFinalize(this);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) DisposeAsync().AsTask().GetAwaiter().GetResult();
            base.Dispose(disposing);
        }
    }

    private const string DeleteUnsharedBlobs = $"""
        DELETE FROM artifact_blobs
        WHERE sha256 IN (SELECT a.sha256 FROM artifacts a {ArtifactsOfRuns.OfRuns} WHERE r.pk = ANY(@Pks))
          AND NOT EXISTS (SELECT 1 FROM artifacts a {ArtifactsOfRuns.OfRuns} WHERE a.sha256 = artifact_blobs.sha256 AND r.pk <> ALL(@Pks))
        """;

    public Task DeleteUnsharedAsync(IDbConnection connection, IDbTransaction tx, long[] pks) =>
        connection.ExecuteAsync(DeleteUnsharedBlobs, new { Pks = pks }, tx);
}
