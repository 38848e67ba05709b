using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace RunMonitor.Peers;

/// The same questions put to Hangfire's dashboard and to RunMonitor on one PostgreSQL: each pair's requests
/// alternate (Hangfire, RunMonitor, Hangfire, …) after a warm-up, so a slow second of the machine lands on both.
public static class Compare
{
    private sealed record Target(string Path, HttpMethod Method, Func<HttpContent>? Body = null);

    private sealed record Pair(string Name, Target Hangfire, Target RunMonitor);

    // What the dashboard's own poll asks for (its layout's metrics).
    private static readonly string[] Metrics =
        ["enqueued:count", "failed:count", "processing:count", "scheduled:count", "succeeded:count", "deleted:count", "servers:count", "recurring:count", "retries:count"];

    public static async Task<int> RunAsync(string connectionString, string hangfireUrl, string runMonitorUrl, int jobs, int requests, string? output)
    {
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var hf = hangfireUrl.TrimEnd('/');
        var rm = runMonitorUrl.TrimEnd('/');

        await using var connection = new NpgsqlConnection(connectionString);
        var failedJob = await connection.ExecuteScalarAsync<long>(
            $"SELECT id FROM {HangfireLoader.Schema}.job WHERE statename = 'Failed' ORDER BY id DESC OFFSET 100 LIMIT 1");
        using var runs = JsonDocument.Parse(await http.GetStringAsync($"{rm}/api/runs?status=failed&limit=1&offset=100"));
        var failedRun = runs.RootElement.GetProperty("items")[0].GetProperty("id").GetString()!;
        var deep = jobs / 2;

        Pair[] pairs =
        [
            new("dashboard home", new($"{hf}/hangfire", HttpMethod.Get), new($"{rm}/ui/runs", HttpMethod.Get)),
            new("failed list", new($"{hf}/hangfire/jobs/failed", HttpMethod.Get), new($"{rm}/ui/runs/list?status=failed", HttpMethod.Get)),
            new($"succeeded list, deep page ({deep:N0})", new($"{hf}/hangfire/jobs/succeeded?from={deep}&count=20", HttpMethod.Get),
                new($"{rm}/ui/runs/list?status=completed&offset={deep}", HttpMethod.Get)),
            new("one failed job's page", new($"{hf}/hangfire/jobs/details/{failedJob}", HttpMethod.Get), new($"{rm}/runs/{failedRun}", HttpMethod.Get)),
            new("stats poll", new($"{hf}/hangfire/stats", HttpMethod.Post, () => new FormUrlEncodedContent(Metrics.Select(m => KeyValuePair.Create("metrics[]", m)))),
                new($"{rm}/ui/runs/stats", HttpMethod.Get)),
        ];

        var lines = new List<string>
        {
            $"| question ({jobs:N0} jobs / runs) | Hangfire 1.8 | p50 ms | p99 ms | RunMonitor | p50 ms | p99 ms | RunMonitor faster at p50 |",
            "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |",
        };
        var failures = 0;
        foreach (var pair in pairs)
        {
            // Both must answer as a person would see them before anything is timed.
            foreach (var target in new[] { pair.Hangfire, pair.RunMonitor })
            {
                using var response = await SendAsync(http, target);
                if (!response.IsSuccessStatusCode)
                {
                    Console.Error.WriteLine($"{target.Method} {target.Path} answered {(int)response.StatusCode}");
                    failures++;
                }
            }
            // A slow page (Hangfire's deep pages take seconds at a million jobs) is measured for a minute, at least 50 times.
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Math.Min(200, requests) && clock.Elapsed < TimeSpan.FromSeconds(20); i++)
            {
                await TimeAsync(http, pair.Hangfire);
                await TimeAsync(http, pair.RunMonitor);
            }
            var hangfire = new List<double>(requests);
            var runMonitor = new List<double>(requests);
            clock.Restart();
            for (var i = 0; i < requests && (i < 50 || clock.Elapsed < TimeSpan.FromSeconds(60)); i++)
            {
                hangfire.Add(await TimeAsync(http, pair.Hangfire));
                runMonitor.Add(await TimeAsync(http, pair.RunMonitor));
            }
            hangfire.Sort();
            runMonitor.Sort();
            var (h50, h99, r50, r99) = (Percentile(hangfire, .5), Percentile(hangfire, .99), Percentile(runMonitor, .5), Percentile(runMonitor, .99));
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {pair.Name} ({hangfire.Count:N0} each) | `{Local(pair.Hangfire)}` | {h50:F2} | {h99:F2} | `{Local(pair.RunMonitor)}` | {r50:F2} | {r99:F2} | {h50 / r50:F0}× |"));
            Console.WriteLine(lines[^1]);
        }
        if (output is not null) await File.WriteAllLinesAsync(output, lines);
        return failures == 0 ? 0 : 1;
    }

    private static string Local(Target target) => (target.Method == HttpMethod.Post ? "POST " : "") + new Uri(target.Path).PathAndQuery;

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, Target target) =>
        http.SendAsync(new HttpRequestMessage(target.Method, target.Path) { Content = target.Body?.Invoke() });

    private static async Task<double> TimeAsync(HttpClient http, Target target)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await SendAsync(http, target);
        await response.Content.CopyToAsync(Stream.Null);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
