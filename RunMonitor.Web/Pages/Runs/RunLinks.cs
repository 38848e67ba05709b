using RunMonitor.Web.Api;

namespace RunMonitor.Web.Pages.Runs;

/// One URL shape for many ids (a table row, a timeline step each): routing generates it once around a
/// placeholder id, and each id is put in escaped (routing per row is costly: docs/PERFORMANCE.md). An id
/// outside ingest's pattern, which routing might escape differently, goes through `generate` itself, and so does
/// every id when the placeholder does not appear exactly once (another route value holding it).
public sealed class RunLinks
{
    private const string Placeholder = "RUNLINKSID";
    private readonly Func<string, string> _generate;
    private readonly string? _prefix;
    private readonly string? _suffix;

    /// `generate` makes the URL for one id, e.g. `id => Url.Page("/Runs/Modal", new { id })!`.
    public RunLinks(Func<string, string> generate)
    {
        _generate = generate;
        var template = generate(Placeholder);
        var at = template.IndexOf(Placeholder, StringComparison.Ordinal);
        if (at < 0 || template.IndexOf(Placeholder, at + 1, StringComparison.Ordinal) >= 0) return;
        (_prefix, _suffix) = (template[..at], template[(at + Placeholder.Length)..]);
    }

    public string For(string id) => _prefix is not null && IngestParser.IdPattern().IsMatch(id)
        ? _prefix + Uri.EscapeDataString(id) + _suffix
        : _generate(id);
}
