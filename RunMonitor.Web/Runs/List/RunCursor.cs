using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RunMonitor.Web.Runs;

/// A place in a sorted run list: the sort key of one run (its sort's columns, then `pk`), so the next page starts
/// right after it (`after`, the Next link) or the previous one ends right before it (`before`, the Previous link)
/// with an index seek instead of reading and discarding `offset` rows. It names its sort, so a cursor from one order
/// is refused in another. In a URL it is opaque: base64url of `sort|status|createdAt|duration|pk`.
public sealed partial record RunCursor(string SortToken, string? Status, string CreatedAt, long? DurationMs, long Pk, bool Before)
{
    public string ParameterName => Before ? "before" : "after";

    public static RunCursor From(RunRow row, RunFilter filter, bool before) =>
        new(filter.SortToken, filter.Sort == RunSort.Status ? row.Status : null, row.CreatedAt,
            filter.Sort == RunSort.Duration ? row.DurationMs : null, row.Pk, before);

    public string Token
    {
        get
        {
            var text = string.Join('|', SortToken, Status ?? "", CreatedAt,
                DurationMs?.ToString(CultureInfo.InvariantCulture) ?? "", Pk.ToString(CultureInfo.InvariantCulture));
            return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,200}$")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex DbTimePattern();

    /// The cursor a link carried, for the list's sort; null when it is not one this list made.
    public static RunCursor? Parse(string token, RunFilter filter, bool before)
    {
        if (!TokenPattern().IsMatch(token)) return null;
        string text;
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            text = Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=')));
        }
        catch (FormatException)
        {
            return null;
        }
        var parts = text.Split('|');
        if (parts.Length != 5 || parts[0] != filter.SortToken || !DbTimePattern().IsMatch(parts[2])) return null;
        if (!long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var pk)) return null;
        string? status = null;
        long? duration = null;
        switch (filter.Sort)
        {
            case RunSort.Status:
                if (RunStatus.Normalize(parts[1]) != parts[1] || parts[3] != "") return null;
                status = parts[1];
                break;
            case RunSort.Duration:
                if (parts[1] != "") return null;
                if (parts[3] != "")
                {
                    if (!long.TryParse(parts[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var d)) return null;
                    duration = d;
                }
                break;
            default:
                if (parts[1] != "" || parts[3] != "") return null;
                break;
        }
        return new RunCursor(parts[0], status, parts[2], duration, pk, before);
    }
}
