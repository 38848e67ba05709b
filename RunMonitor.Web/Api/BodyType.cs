using Microsoft.Net.Http.Headers;

namespace RunMonitor.Web.Api;

/// What a write's `Content-Type` may say: JSON of some kind (none at all is taken as JSON), in UTF-8, which is what
/// JSON between systems is (RFC 8259, 8.1). Anything else is a 415 saying what to send, not a 400 about bytes read
/// in the wrong encoding.
internal static class BodyType
{
    /// `send`: what the route takes, said in the refusal.
    public static IResult? Refuse(string? contentType, string send)
    {
        if (contentType is null) return null;
        // The media type says JSON (application/json, …+json, x-ndjson), not a parameter (`multipart/form-data; boundary=json`).
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || !parsed.MediaType.Value!.Contains("json", StringComparison.OrdinalIgnoreCase))
            return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", send);
        if (HeaderUtilities.RemoveQuotes(parsed.Charset).Value is { Length: > 0 } charset
            && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)
            && !charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported charset",
                $"the body is said to be {charset}; {send} in UTF-8 (charset=utf-8, or no charset)");
        }
        return null;
    }
}
