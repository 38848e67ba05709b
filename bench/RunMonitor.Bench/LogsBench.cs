using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

/// `--logs` (issue 16): batch ingest of log lines and of step updates from N writers (`POST /api/ingest`), then the
/// logs fragment and a `q=` search over one run holding 100,000 lines, each request followed by one of the static file.
static class LogsBench
{
    private const int LinesPerRequest = 10_000;
    private const int StepsPerRequest = 1_000;

    public static async Task<int> RunAsync(BenchOptions options)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, AutomaticDecompression = DecompressionMethods.Brotli | DecompressionMethods.GZip };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(options.BaseUrl), Timeout = TimeSpan.FromSeconds(120) };
        var stamp = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        var output = new List<string>();
        void Say(string line) { output.Add(line); Console.WriteLine(line); }

        // One run of 100,000 lines for the reads (10 batches), a few lines an error, one with a rare word.
        var big = $"bench-logs-{stamp}";
        await PostAsync(http, "/api/ingest", Ndjson([$$"""{"type":"run","id":"{{big}}","workflowName":"bench-logs","status":"running"}"""]));
        for (var batch = 0; batch < 10; batch++)
            await PostAsync(http, "/api/ingest", Ndjson(Enumerable.Range(0, LinesPerRequest).Select(i => LogLine(big, batch * LinesPerRequest + i))));

        var writers = Math.Max(1, options.Writers);
        var runs = Enumerable.Range(0, writers).Select(w => $"bench-writer-{stamp}-{w}").ToArray();
        foreach (var run in runs)
            await PostAsync(http, "/api/ingest", Ndjson([$$"""{"type":"run","id":"{{run}}","workflowName":"bench-logs","status":"running"}"""]));
        // Each writer its own run: 10 requests of 10,000 lines (the per-run cap is 100,000).
        var (lines, lineSeconds) = await ConcurrentlyAsync(writers, 10, (w, i) => Ndjson(Enumerable.Range(0, LinesPerRequest).Select(n => LogLine(runs[w], i * LinesPerRequest + n))), http, LinesPerRequest);
        Say($"Batch ingest, log lines: {lines / lineSeconds:N0} lines/s from {writers} writers ({lines:N0} lines in {lineSeconds:F1} s, {LinesPerRequest:N0} a request).");
        var (updates, stepSeconds) = await ConcurrentlyAsync(writers, 20, (w, i) => Ndjson(Enumerable.Range(0, StepsPerRequest).Select(n =>
            $$"""{"type":"step","runId":"{{runs[w]}}","stepId":"s{{n % 200}}","status":"{{(n % 2 == 0 ? "running" : "completed")}}","durationMs":{{n}}}""")), http, StepsPerRequest);
        Say($"Batch ingest, step updates: {updates / stepSeconds:N0} updates/s from {writers} writers ({updates:N0} updates in {stepSeconds:F1} s, {StepsPerRequest:N0} a request, 200 steps a run).");

        Say("");
        Say("| target | p50 ms (1 client) | p99 ms (1 client) | static file p99 ms, same window |");
        Say("| --- | ---: | ---: | ---: |");
        foreach (var (name, path) in new[]
        {
            ("logs fragment, last 200 of 100,000 lines", $"/ui/runs/{big}/logs"),
            ("logs JSON, first 200", $"/api/runs/{big}/logs"),
            ("logs fragment, level=error", $"/ui/runs/{big}/logs?level=error"),
            ("logs fragment, q= a rare word (scans every line)", $"/ui/runs/{big}/logs?q=needle"),
            ("logs fragment, q= no match", $"/ui/runs/{big}/logs?q=zzzz-nothing"),
        })
        {
            for (var i = 0; i < 200; i++) await GetAsync(http, path);
            var (target, statics) = (new List<double>(), new List<double>());
            for (var i = 0; i < options.LatencyRequests; i++)
            {
                target.Add(await TimeAsync(http, path));
                statics.Add(await TimeAsync(http, "/css/site.css"));
            }
            target.Sort();
            statics.Sort();
            Say($"| {name} `{path}` | {Measure.Percentile(target, 0.5):F2} | {Measure.Percentile(target, 0.99):F2} | {Measure.Percentile(statics, 0.99):F2} |");
        }
        if (options.Output is { } file) await File.WriteAllLinesAsync(file, output);
        return 0;
    }

    private static string LogLine(string run, int n) => (n % 997) switch
    {
        0 => $$"""{"type":"log","runId":"{{run}}","level":"error","step":"render","message":"render failed for item {{n}}: template missing","fields":""" + "{\"item\":" + n + "}}",
        1 => $$"""{"type":"log","runId":"{{run}}","level":"warn","step":"fetch","message":"slow answer from the feed ({{n % 900}} ms), a needle in the log"}""",
        _ => $$"""{"type":"log","runId":"{{run}}","step":"fetch","message":"fetched page {{n}} of the catalogue: 50 items, 12 new, 38 unchanged"}""",
    };

    private static string Ndjson(IEnumerable<string> lines) => string.Join('\n', lines) + "\n";

    private static async Task<(long Count, double Seconds)> ConcurrentlyAsync(int writers, int requestsEach, Func<int, int, string> body, HttpClient http, int perRequest)
    {
        // Bodies are built before the clock starts: the figure is the server's.
        var bodies = Enumerable.Range(0, writers).Select(w => Enumerable.Range(0, requestsEach).Select(i => body(w, i)).ToArray()).ToArray();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async w => { foreach (var b in bodies[w]) await PostAsync(http, "/api/ingest", b); }));
        return ((long)writers * requestsEach * perRequest, watch.Elapsed.TotalSeconds);
    }

    private static async Task PostAsync(HttpClient http, string path, string body)
    {
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task GetAsync(HttpClient http, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", BenchOptions.AcceptEncoding);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}");
        await response.Content.ReadAsByteArrayAsync();
    }

    private static async Task<double> TimeAsync(HttpClient http, string path)
    {
        var start = Stopwatch.GetTimestamp();
        await GetAsync(http, path);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

}
