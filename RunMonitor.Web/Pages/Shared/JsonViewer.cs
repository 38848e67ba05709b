using System.Text;

namespace RunMonitor.Web.Pages.Shared;

/// The `_JsonViewer` partial's model: stored JSON text, a heading, and where the whole value can be
/// fetched when the viewer shows only part of it (a payload over `MaxBytes`, a long string, a long array).
public sealed record JsonViewer(string? Json, string Label, string? WholeUrl)
{
    public const int MaxBytes = 256 * 1024;
    public const int MaxStringLength = 400;
    public const int MaxItems = 200;
    public const int PreviewChars = 4096;
    /// Levels open on first render; deeper ones wait for a click.
    public const int OpenDepth = 2;

    public int ByteCount => Json is null ? 0 : Encoding.UTF8.GetByteCount(Json);

    public bool TooLarge => ByteCount > MaxBytes;

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024d:0.#} KB",
        _ => $"{bytes / (1024d * 1024):0.#} MB",
    };
}
