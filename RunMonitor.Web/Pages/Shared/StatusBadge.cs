using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Shared;

/// A status badge: colour, icon and word (SPEC), as markup built once per status. The run views call it
/// directly (a `<partial>` per badge is a view lookup and activation); `_StatusBadge.cshtml` wraps it for the rest.
public sealed record StatusBadge(string Status, bool Large = false)
{
    private const string CheckIcon = """<circle cx="8" cy="8" r="7" fill="currentColor" fill-opacity=".18"/><path d="M4.6 8.3l2.2 2.2 4.6-4.8" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>""";

    private static readonly Dictionary<string, string> Icons = new(StringComparer.Ordinal)
    {
        ["queued"] = """<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 4.6V8l2.3 1.6" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>""",
        ["pending"] = """<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 4.6V8l2.3 1.6" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>""",
        ["running"] = """<circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-opacity=".3" stroke-width="2"/><path class="spin" d="M8 2a6 6 0 0 1 6 6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>""",
        ["completed"] = CheckIcon,
        // A run a bulk operation acted on (its item's state), drawn as a completed run.
        ["succeeded"] = CheckIcon,
        ["partial"] = """<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 1.8a6.2 6.2 0 0 1 0 12.4z" fill="currentColor"/>""",
        ["failed"] = """<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M5.7 5.7l4.6 4.6M10.3 5.7l-4.6 4.6" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>""",
        ["cancelled"] = """<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M3.7 12.3l8.6-8.6" stroke="currentColor" stroke-width="1.6"/>""",
    };

    private const string OtherIcon = """<circle cx="8" cy="8" r="6.2" fill="none" stroke="currentColor" stroke-width="1.6" stroke-dasharray="2.4 2"/>""";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, bool), HtmlString> Cache = new();

    public static IHtmlContent Html(string status, bool large = false) => Cache.GetOrAdd((status, large), key =>
    {
        var (s, big) = key;
        var word = HtmlEncoder.Default.Encode(s);
        return Badge($"badge-{word}{(big ? " badge-large" : "")}", $" data-status=\"{word}\"", word, Icons.GetValueOrDefault(s, OtherIcon));
    });

    /// A bulk operation's status (`running`, `completed`, `stopped`) with the icon of the run status it is coloured as
    /// (bulk.css): `badge bulk-status bulk-status-{status}`.
    public static IHtmlContent Bulk(string status) => BulkCache.GetOrAdd(status, s =>
    {
        var word = HtmlEncoder.Default.Encode(s);
        return Badge($"bulk-status bulk-status-{word}", "", word, Icons.GetValueOrDefault(s == "stopped" ? "cancelled" : s, OtherIcon));
    });

    // A badge's markup, the same for both: its classes after `badge`, any attributes after the class, the encoded word.
    private static HtmlString Badge(string classes, string attributes, string word, string icon) => new(
        $"""<span class="badge {classes}"{attributes}><svg class="badge-icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">{icon}</svg>{word}</span>""");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, HtmlString> BulkCache = new();

    public IHtmlContent Html() => Html(Status, Large);
}
