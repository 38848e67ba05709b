namespace RunMonitor.Web.Runs;

/// One row of `artifacts`: what describes a file a step produced; the bytes live in the blob folder.
public sealed record ArtifactRow
{
    public string Id { get; init; } = "";
    public string RunId { get; init; } = "";
    public string StepId { get; init; } = "";
    public string TenantId { get; init; } = "";
    public string Name { get; init; } = "";
    public string ContentType { get; init; } = "application/octet-stream";
    public long Size { get; init; }
    public string Sha256 { get; init; } = "";
    public string CreatedAt { get; init; } = "";
}

/// `RunMonitor:Artifacts`: the upload limit (bytes).
public sealed class ArtifactOptions
{
    public const long DefaultMaxBytes = 50L * 1024 * 1024;

    public long MaxBytes { get; set; } = DefaultMaxBytes;
}

/// An upload written to a temp file and hashed; not yet an artifact. Disposing removes the temp file
/// unless the store has moved it into place.
public sealed class StagedBlob(string tempPath, string sha256, long size) : IDisposable
{
    public string TempPath { get; } = tempPath;
    public string Sha256 { get; } = sha256;
    public long Size { get; } = size;

    public void Dispose()
    {
        try { if (File.Exists(TempPath)) File.Delete(TempPath); } catch (IOException) { }
    }
}
