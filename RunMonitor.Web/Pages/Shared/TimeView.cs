using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Shared;

/// A time as SPEC shows it: relative words in `<time datetime>` with the absolute UTC time as title; `—` for none.
/// The run views call `Html` directly; `_Time.cshtml` wraps it for the rest.
public sealed record TimeView(DateTimeOffset? Value, DateTimeOffset Now)
{
    private static readonly HtmlString None = new("""<span class="muted">—</span>""");

    public static IHtmlContent Html(DateTimeOffset? value, DateTimeOffset now)
    {
        if (value is not { } v) return None;
        var e = HtmlEncoder.Default;
        return new HtmlString($"""<time datetime="{e.Encode(Format.Iso(v))}" title="{e.Encode(Format.Absolute(v))}">{e.Encode(Format.Relative(v, now))}</time>""");
    }

    /// A log line's time: a clock time in UTC to the millisecond, never words ("3 minutes ago" tells no two lines
    /// apart); the script shows `time.clock` in the browser's zone when the time switch says local. The whole
    /// instant is in `datetime` and the title.
    public static IHtmlContent Clock(DateTimeOffset value)
    {
        var iso = HtmlEncoder.Default.Encode(Format.Iso(value));
        return new HtmlString($"""<time class="clock" datetime="{iso}" title="{iso}">{HtmlEncoder.Default.Encode(Format.Clock(value))}</time>""");
    }

    public IHtmlContent Html() => Html(Value, Now);
}
