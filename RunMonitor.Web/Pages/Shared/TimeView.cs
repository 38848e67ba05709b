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

    public IHtmlContent Html() => Html(Value, Now);
}
