using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Html;

namespace RunMonitor.Web.Wire;

/// The app's bundled style sheet, written into each page's head: the first paint waits for no second request
/// (Lighthouse's phone profile pays ~0.5 s per round trip, and its deferred scripts shared the bandwidth with the
/// sheet), and the CSP allows exactly this text by its hash. Comments and indentation are left out.
public sealed partial class InlineStyle
{
    public const string BundlePath = "lib/runmonitor/runmonitor.css";

    public InlineStyle(IWebHostEnvironment environment)
    {
        var file = environment.WebRootFileProvider.GetFileInfo(BundlePath);
        var source = "";
        if (file.Exists)
        {
            using var reader = new StreamReader(file.CreateReadStream(), Encoding.UTF8);
            source = reader.ReadToEnd();
        }
        Text = Squeeze(source);
        Html = new HtmlString(Text);
        Hash = $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Text)))}'";
    }

    /// The CSS as written between `<style>` and `</style>`.
    public string Text { get; }

    public IHtmlContent Html { get; }

    /// The CSP source that allows this one `<style>` element.
    public string Hash { get; }

    internal static string Squeeze(string css) => string.Join('\n', Comment().Replace(css, "")
        .Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();
}
