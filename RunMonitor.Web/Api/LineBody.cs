using System.Text;
using System.Text.Json;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// A request body of many JSON objects: a JSON array, or NDJSON (one object a line). Read whole within its limits
/// (10 MB, 10,000 lines: 413 beyond), each object with its line number (its place in the array, or its line of the
/// text; blank lines are skipped but counted), so a 400 can name the line.
public static class LineBody
{
    public const int MaxBytes = 10 * 1024 * 1024;
    public const int MaxLines = 10_000;

    /// `Read`: what a caller's `shortcut` made of the line's bytes (then `Value` is not parsed).
    public sealed record Line(int Number, JsonElement Value, object? Read = null);

    /// `shortcut`: given an NDJSON line's number and bytes, the line as the caller reads it, or null for "parse it as
    /// JSON as usual" (anything it does not read whole and valid, so every refusal keeps its usual wording).
    public static async Task<(IReadOnlyList<Line>? Lines, IResult? Refused)> ReadAsync(HttpContext http, bool arrayAllowed, CancellationToken ct,
        Func<int, ReadOnlyMemory<byte>, object?>? shortcut = null)
    {
        if (BodyType.Refuse(http.Request.ContentType,
                arrayAllowed ? "send a JSON array (application/json) or NDJSON (application/x-ndjson)" : "send NDJSON (application/x-ndjson)") is { } refused)
            return (null, refused);
        if (http.Request.ContentLength > MaxBytes) return (null, TooLarge($"the body is {http.Request.ContentLength:N0} bytes"));
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxBytes + 1L;
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxBytes) return (null, TooLarge("the body is larger"));
                buffer.Write(chunk, 0, read);
            }
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e)
        {
            return (null, RunsApi.BodyRefused(e));
        }

        // A byte order mark before the first line, as Windows tools write one (POST /api/runs took it; these were a 400).
        if (body.AsSpan().StartsWith(Encoding.UTF8.Preamble)) body = body[Encoding.UTF8.Preamble.Length..];
        var text = body.AsSpan();
        var start = 0;
        while (start < text.Length && text[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') start++;
        if (arrayAllowed && start < text.Length && text[start] == (byte)'[') return ReadArray(body);
        return ReadNdjson(body, shortcut);
    }

    private static (IReadOnlyList<Line>?, IResult?) ReadArray(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = JsonAnswer.BodyDepth });
            var count = doc.RootElement.GetArrayLength();
            if (count > MaxLines) return (null, TooManyLines(count));
            var lines = new List<Line>(count);
            var n = 0;
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                n++;
                if (JsonBody.FindInvalidText(item, $"line {n}") is { } field) return (null, Problems.Validation(new() { [field] = [StorableText.Rule] }));
                lines.Add(new Line(n, item.Clone()));
            }
            if (lines.Count == 0) return (null, Problems.Validation(new() { ["body"] = ["holds no lines; send at least one"] }));
            return (lines, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Validation(new() { ["body"] = [$"is not a valid JSON array: {e.Message}"] }));
        }
    }

    private static (IReadOnlyList<Line>?, IResult?) ReadNdjson(byte[] body, Func<int, ReadOnlyMemory<byte>, object?>? shortcut)
    {
        var lines = new List<Line>();
        var number = 0;
        var start = 0;
        while (start <= body.Length)
        {
            var end = Array.IndexOf(body, (byte)'\n', start);
            if (end < 0) end = body.Length;
            number++;
            var span = new ReadOnlyMemory<byte>(body, start, end - start);
            start = end + 1;
            if (IsBlank(span.Span)) continue;
            if (lines.Count == MaxLines) return (null, TooManyLines(CountLines(body)));
            if (shortcut?.Invoke(number, span) is { } read)
            {
                lines.Add(new Line(number, default, read));
                continue;
            }
            try
            {
                using var doc = JsonDocument.Parse(span, new JsonDocumentOptions { MaxDepth = JsonAnswer.BodyDepth });
                if (JsonBody.FindInvalidText(doc.RootElement, $"line {number}") is { } field)
                    return (null, Problems.Validation(new() { [field] = [StorableText.Rule] }));
                lines.Add(new Line(number, doc.RootElement.Clone()));
            }
            catch (JsonException e)
            {
                return (null, Problems.Validation(new() { [$"line {number}"] = [$"is not valid JSON: {e.Message}"] }));
            }
        }
        if (lines.Count == 0) return (null, Problems.Validation(new() { ["body"] = ["holds no lines; send at least one JSON object a line"] }));
        return (lines, null);
    }

    private static bool IsBlank(ReadOnlySpan<byte> span)
    {
        foreach (var b in span) if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }

    private static int CountLines(byte[] body)
    {
        var count = 0;
        foreach (var line in Encoding.UTF8.GetString(body).Split('\n')) if (!string.IsNullOrWhiteSpace(line)) count++;
        return count;
    }

    private static IResult TooLarge(string what) => Problems.Status(StatusCodes.Status413PayloadTooLarge, "Request body too large",
        $"{what}; at most {MaxBytes:N0} bytes (10 MB) a request: send the rest in another request");

    private static IResult TooManyLines(int count) => Problems.Status(StatusCodes.Status413PayloadTooLarge, "Too many lines",
        $"the body holds {count:N0} lines; at most {MaxLines:N0} a request: send the rest in another request");
}
