using System.Diagnostics;
using System.Text;

/// What several bench modes measure the same way: percentiles of sorted latencies, and writers creating runs.
static class Measure
{
    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// `writers` create runs (POST /api/runs, two planned steps each) for `seconds` or until `cancel`.
    public static async Task<(long Total, double PerSecond, long Failures, long Locked)> IngestAsync(HttpClient http, int writers, int seconds, CancellationToken cancel = default)
    {
        var stop = Stopwatch.StartNew();
        long total = 0, failures = 0, locked = 0;
        var tasks = Enumerable.Range(0, writers).Select(async w =>
        {
            var n = 0;
            while (stop.Elapsed.TotalSeconds < seconds && !cancel.IsCancellationRequested)
            {
                var body = $$"""{"workflowName":"bench-ingest","name":"writer {{w}} run {{n++}}","status":"running","steps":[{"stepId":"a"},{"stepId":"b"}]}""";
                using var response = await http.PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));
                Interlocked.Increment(ref total);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                    var text = await response.Content.ReadAsStringAsync();
                    if (text.Contains("database is locked", StringComparison.OrdinalIgnoreCase)) Interlocked.Increment(ref locked);
                }
            }
        });
        await Task.WhenAll(tasks);
        return (total, total / stop.Elapsed.TotalSeconds, failures, locked);
    }

    /// As `IngestAsync`, for progress reports: PATCHes of the running runs `{prefix}-0` … `{prefix}-{runs - 1}`, at random.
    public static async Task<(long Total, double PerSecond, long Failures, long Locked)> ProgressAsync(HttpClient http, string prefix, int runs, int writers, int seconds)
    {
        var stop = Stopwatch.StartNew();
        long total = 0, failures = 0;
        var tasks = Enumerable.Range(0, writers).Select(async w =>
        {
            var n = 0;
            while (stop.Elapsed.TotalSeconds < seconds)
            {
                n++;
                var body = $$$"""{"metrics":{"targetsProcessed":{{{n}}}},"context":{"page":{{{n}}}}}""";
                using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/runs/{prefix}-{Random.Shared.Next(runs)}")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                using var response = await http.SendAsync(request);
                Interlocked.Increment(ref total);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref failures);
            }
        });
        await Task.WhenAll(tasks);
        return (total, total / stop.Elapsed.TotalSeconds, failures, 0);
    }
}
