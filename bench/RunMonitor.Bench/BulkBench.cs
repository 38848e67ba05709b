using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

/// `--bulk`: a bulk retry of the store's failed runs (issue 15: 100,000 at the 1,000,000-run store) while the list is
/// read at one client and 8 writers create runs; the same two figures idle first, so the table shows what the
/// operation costs everyone else. Against a Release app on the bench's store (the list cache on, as shipped).
static class BulkBench
{
    private const string ListPath = "/ui/runs/list?status=failed";

    public static async Task<int> RunAsync(BenchOptions options)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(options.BaseUrl), Timeout = TimeSpan.FromMinutes(5) };
        for (var i = 0; i < 500; i++) await Get(http, ListPath);

        var (idleList, idleWrites) = await MeasureAsync(http, options.Writers, TimeSpan.FromSeconds(options.ThroughputSeconds), () => true);

        var dry = await PostAsync(http, """{"action":"retry","filter":{"status":"failed"},"dryRun":true}""");
        var eligible = dry.GetProperty("eligible").GetInt64();
        var started = Stopwatch.StartNew();
        var created = await PostAsync(http, $$"""{"action":"retry","filter":{"status":"failed"},"expectedCount":{{eligible}}}""");
        var startSeconds = started.Elapsed.TotalSeconds;
        var id = created.GetProperty("id").GetRawText().Trim('"');
        var done = false;
        var poll = Task.Run(async () =>
        {
            while (!done)
            {
                await Task.Delay(500);
                using var state = JsonDocument.Parse(await http.GetStringAsync($"/api/bulk/{id}"));
                done = state.RootElement.GetProperty("status").GetString() != "running";
            }
        });
        var (busyList, busyWrites) = await MeasureAsync(http, options.Writers, TimeSpan.FromMinutes(30), () => !done);
        await poll;
        var seconds = started.Elapsed.TotalSeconds;
        using var final = JsonDocument.Parse(await http.GetStringAsync($"/api/bulk/{id}"));
        var f = final.RootElement;

        Console.WriteLine($"Bulk retry of {eligible:N0} failed runs: started (runs frozen) in {startSeconds:F1} s, finished in {seconds:F1} s " +
                          $"({eligible / seconds:N0} runs/s): status {f.GetProperty("status").GetString()}, succeeded {f.GetProperty("succeeded").GetInt64():N0}, " +
                          $"skipped {f.GetProperty("skipped").GetInt64():N0}, failed {f.GetProperty("failed").GetInt64():N0}.");
        Console.WriteLine();
        Console.WriteLine("| | idle | while the operation runs | ratio |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        Console.WriteLine($"| list p50 ms `{ListPath}` | {Measure.Percentile(idleList, .5):F2} | {Measure.Percentile(busyList, .5):F2} | {Measure.Percentile(busyList, .5) / Measure.Percentile(idleList, .5):F2}× |");
        Console.WriteLine($"| list p99 ms | {Measure.Percentile(idleList, .99):F2} | {Measure.Percentile(busyList, .99):F2} | {Measure.Percentile(busyList, .99) / Measure.Percentile(idleList, .99):F2}× |");
        Console.WriteLine($"| ingest writes/s ({options.Writers} writers, POST /api/runs) | {idleWrites:N0} | {busyWrites:N0} | {busyWrites / idleWrites:P0} |");
        return 0;
    }

    // The list at one client and the writers side by side, for `span` or while `more` holds.
    private static async Task<(List<double> List, double WritesPerSecond)> MeasureAsync(HttpClient http, int writers, TimeSpan span, Func<bool> more)
    {
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(span);
        var writing = Measure.IngestAsync(http, writers, int.MaxValue, stop.Token);
        var list = new List<double>();
        while (!stop.IsCancellationRequested && more())
        {
            var start = Stopwatch.GetTimestamp();
            await Get(http, ListPath);
            list.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        await stop.CancelAsync();
        var (total, _, failures, _) = await writing;
        list.Sort();
        return (list, (total - failures) / clock.Elapsed.TotalSeconds);
    }

    private static async Task Get(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string json)
    {
        using var response = await http.PostAsync("/api/bulk", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/bulk answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

}
