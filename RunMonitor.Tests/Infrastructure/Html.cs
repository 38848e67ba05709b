using AngleSharp;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace RunMonitor.Tests.Infrastructure;

/// Parses responses with AngleSharp so tests assert by CSS selector, not by substring.
public static class Html
{
    private static readonly HtmlParser Parser = new();

    public static async Task<IDocument> ParseAsync(HttpResponseMessage response) =>
        await Parser.ParseDocumentAsync(await response.Content.ReadAsStringAsync());

    public static async Task<IDocument> GetDocumentAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        return await ParseAsync(response);
    }

    public static string Text(this IElement? element) => element?.TextContent.Trim() ?? "";

    public static string Squash(this string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
