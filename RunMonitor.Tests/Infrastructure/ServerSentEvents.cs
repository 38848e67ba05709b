namespace RunMonitor.Tests.Infrastructure;

/// Reads a `text/event-stream` response the way a browser's EventSource does.
public static class ServerSentEvents
{
    /// The next event as its lines joined by `|` ("event: run|data: running"); retry hints and keep-alive
    /// comments are passed over. Throws when the stream ends first.
    public static async Task<string> NextEventAsync(this StreamReader reader, CancellationToken ct)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await reader.ReadLineAsync(ct) ?? throw new EndOfStreamException(string.Join("|", lines));
            if (line.Length > 0) { lines.Add(line); continue; }
            if (lines.Any(l => l.StartsWith("event:", StringComparison.Ordinal))) return string.Join("|", lines);
            lines.Clear();
        }
    }
}
