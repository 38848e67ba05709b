using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

// A small load client for RunMonitor: latency at one client, throughput at N connections, and ingest
// writes/s from concurrent writers. Each HTTP figure is printed beside a small static file's latency
// measured in the same run, so results from different machines can be read against each other.
// `--combine label=file.tsv ... --out table.md`: one table with a column group per store, from earlier runs' --tsv files.
if (args is ["--combine", ..]) return await CombineAsync(args);
// `--ab URL_A URL_B`: two builds of the app on one store, each target's requests alternating between them.
if (args is ["--ab", var urlA, var urlB, ..]) return await AbAsync(urlA, urlB, BenchOptions.Parse(args).LatencyRequests);
// `--deep`: deep pages of the list, each at one client while the store is idle and again while writers ingest; run
// against an app started with RunMonitor__Lists__Cache=false, so every answer is read from the store.
if (args is ["--deep", ..]) return await DeepAsync(BenchOptions.Parse(args), args.Contains("--no-cursor"));
// `--logs`: batch ingest of log lines and step updates, and the reads of a run holding 100,000 lines (LogsBench).
if (args is ["--logs", ..]) return await LogsBench.RunAsync(BenchOptions.Parse(args));
// `--bulk`: a bulk retry of every failed run while the list is read and writers ingest (BulkBench).
if (args is ["--bulk", ..]) return await BulkBench.RunAsync(BenchOptions.Parse(args));
var options = BenchOptions.Parse(args);
// Writes before the measured ingest, unmeasured: long enough for the write path to reach .NET's optimised code.
const int IngestWarmUpSeconds = 10;
// The running runs the progress reports are spread over (a batch of them, under its 10,000 lines).
const int ProgressRuns = 8_000;
// As a browser: it asks for Brotli or gzip and decodes the answer, so the figures include both ends of compression.
using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10),
    AutomaticDecompression = DecompressionMethods.Brotli | DecompressionMethods.GZip,
};
using var http = new HttpClient(handler) { BaseAddress = new Uri(options.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };

var targets = Targets(await SampleRunIdAsync(http));

// Warm every target first (view compilation, SQLite's page cache, and the JIT: .NET compiles a method quickly
// first and optimised only after it has run a while, so after a hundred requests a page was still about twice its
// steady cost). A server that has run for a minute is what is measured.
foreach (var (_, path) in targets)
    for (var i = 0; i < 1_000; i++) await GetAsync(http, path);

var results = new List<string>();
var figures = new List<string>();
results.Add($"| target | p50 ms (1 client) | p99 ms (1 client) | req/s ({options.Connections} conns, {(WrkAvailable() ? "wrk" : ".NET client")}) | static file p99 ms, same window | p99 ÷ static p99 |");
results.Add("| --- | ---: | ---: | ---: | ---: | ---: |");
var staticPath = targets[0].Path;
foreach (var (name, path) in targets)
{
    // Each target's requests alternate with the static file's, so the ratio compares the two under the same
    // conditions: on a shared VM a second's worth of the machine's own slowness otherwise lands in one row only.
    var (latencies, staticLatencies) = await MeasureLatencyAsync(http, path, staticPath, options.LatencyRequests);
    // The static file's own row: its requests and their companions are one sample of it.
    if (path == staticPath) latencies = staticLatencies = [.. latencies.Concat(staticLatencies).Order()];
    var throughput = WrkAvailable()
        ? await MeasureWithWrkAsync(options.BaseUrl + path, options.Connections, options.ThroughputSeconds)
        : await MeasureThroughputAsync(http, path, options.Connections, options.ThroughputSeconds);
    var p50 = Measure.Percentile(latencies, 0.50);
    var p99 = Measure.Percentile(latencies, 0.99);
    var staticP99 = Measure.Percentile(staticLatencies, 0.99);
    results.Add($"| {name} `{path}` | {p50:F2} | {p99:F2} | {throughput:N0} | {staticP99:F2} | {p99 / staticP99:F1}× |");
    figures.Add(string.Join('\t', name, path, p50.ToString("F2", CultureInfo.InvariantCulture), p99.ToString("F2", CultureInfo.InvariantCulture),
        throughput.ToString("F0", CultureInfo.InvariantCulture), (p99 / staticP99).ToString("F1", CultureInfo.InvariantCulture),
        staticP99.ToString("F2", CultureInfo.InvariantCulture)));
    Console.WriteLine(results[^1]);
}

if (WrkAvailable())
{
    // The machine's own pace, comparable with the runs from before 2026-12-02: the static file as it was measured then,
    // uncompressed (the table's row asks for Brotli, which the app compresses on each request: about 2.4 times the
    // app's CPU a request). Reads and ingest move with it on this shared VM (docs/PERFORMANCE.md).
    var plain = await MeasureWithWrkAsync(options.BaseUrl + staticPath, options.Connections, options.ThroughputSeconds, acceptEncoding: null);
    results.Add("");
    results.Add($"Yardstick: the static file `{staticPath}` uncompressed, {plain:N0} req/s at {options.Connections} connections (wrk).");
    figures.Add(string.Join('\t', "static file uncompressed", staticPath, "", "", plain.ToString("F0", CultureInfo.InvariantCulture), "", ""));
    Console.WriteLine(results[^1]);
}

foreach (var (name, path) in SampledPages())
{
    for (var i = 0; i < 5; i++) await GetAsync(http, path);
    var times = new List<double>();
    for (var i = 0; i < 50; i++) times.Add(await TimeAsync(http, path));
    times.Sort();
    results.Add("");
    results.Add($"{name} `{path}` (50 requests at one client, a sampled page): p50 {Measure.Percentile(times, 0.50):F1} ms, p99 {Measure.Percentile(times, 0.99):F1} ms.");
    figures.Add(string.Join('\t', name, path, Measure.Percentile(times, 0.50).ToString("F2", CultureInfo.InvariantCulture), Measure.Percentile(times, 0.99).ToString("F2", CultureInfo.InvariantCulture), "", "", ""));
    Console.WriteLine(results[^1]);
}

var writes = WrkAvailable()
    ? await MeasureIngestWithWrkAsync(options.BaseUrl, options.Writers, options.ThroughputSeconds)
    : await WarmThenMeasureIngestAsync(http, options.Writers, options.ThroughputSeconds);
results.Add("");
results.Add($"Ingest: {writes.PerSecond:N0} writes/s (POST /api/runs with two planned steps) from {options.Writers} writers over {options.ThroughputSeconds}s ({writes.Total:N0} writes, {writes.Failures} failed{(WrkAvailable() ? ", wrk" : $", {writes.Locked} \"database is locked\"")}).");
Console.WriteLine(results[^1]);

figures.Add(string.Join('\t', "ingest", "POST /api/runs", "", "", writes.PerSecond.ToString("F0", CultureInfo.InvariantCulture), writes.Failures.ToString(CultureInfo.InvariantCulture)));

var progress = await MeasureProgressAsync(http, options.BaseUrl, options.Writers, options.ThroughputSeconds);
results.Add("");
results.Add($"Progress reports: {progress.PerSecond:N0} updates/s (PATCH /api/runs/{{id}}: a running run's metrics and context, one of {ProgressRuns:N0} at random) from {options.Writers} writers over {options.ThroughputSeconds}s ({progress.Total:N0} updates, {progress.Failures} failed{(WrkAvailable() ? ", wrk" : "")}).");
Console.WriteLine(results[^1]);
figures.Add(string.Join('\t', "progress", "PATCH /api/runs/{id}", "", "", progress.PerSecond.ToString("F0", CultureInfo.InvariantCulture), progress.Failures.ToString(CultureInfo.InvariantCulture)));
if (options.Output is { } file)
{
    await File.WriteAllLinesAsync(file, results);
    Console.WriteLine($"results written to {file}");
}
if (options.Figures is { } tsv) await File.WriteAllLinesAsync(tsv, figures);
return writes.Failures == 0 ? 0 : 1;

static (string Name, string Path)[] Targets(string sampleId) =>
[
    ("static file (css)", "/css/site.css"),
    ("list default", "/ui/runs/list"),
    ("list status=failed", "/ui/runs/list?status=failed"),
    ("list layer + status", "/ui/runs/list?layer_name=nightly-user-reflection&status=failed"),
    ("list deep page", "/ui/runs/list?offset=5000"),
    ("list sort duration", "/ui/runs/list?sort=-duration"),
    ("list search no match", "/ui/runs/list?q=zzzz-no-such-run"),
    ("stats", "/ui/runs/stats"),
    ("detail modal", $"/ui/runs/{sampleId}"),
    ("run page", $"/runs/{sampleId}"),
    ("runs page", "/ui/runs"),
    ("alert banner (every page polls it)", "/ui/alerts/banner"),
    ("workers list", "/ui/workers/list"),
];

// Pages whose cost is a bounded sample rather than an index range (the admin page reads the period's newest 50,000
// runs and their steps for its percentiles: a few hundred milliseconds at any size): 50 requests each, p50/p99 only.
static (string Name, string Path)[] SampledPages() => [("admin page", "/admin")];

// Before and after on a busy machine: A and B answer in turn (which goes first alternates), so a slow second
// lands on both and their ratio holds where absolute figures swing.
static async Task<int> AbAsync(string urlA, string urlB, int count)
{
    using var a = new HttpClient { BaseAddress = new Uri(urlA), Timeout = TimeSpan.FromSeconds(30) };
    using var b = new HttpClient { BaseAddress = new Uri(urlB), Timeout = TimeSpan.FromSeconds(30) };
    Console.WriteLine($"| target | A p50 ms | A p99 ms | B p50 ms | B p99 ms | B ÷ A p50 |");
    Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (name, path) in Targets(await SampleRunIdAsync(a)))
    {
        for (var i = 0; i < 1_000; i++) { await GetAsync(a, path); await GetAsync(b, path); }
        var (timesA, timesB) = (new List<double>(count), new List<double>(count));
        for (var i = 0; i < count; i++)
        {
            if (i % 2 == 0) { timesA.Add(await TimeAsync(a, path)); timesB.Add(await TimeAsync(b, path)); }
            else { timesB.Add(await TimeAsync(b, path)); timesA.Add(await TimeAsync(a, path)); }
        }
        timesA.Sort();
        timesB.Sort();
        var (a50, b50) = (Measure.Percentile(timesA, .5), Measure.Percentile(timesB, .5));
        Console.WriteLine($"| {name} `{path}` | {a50:F3} | {Measure.Percentile(timesA, .99):F2} | {b50:F3} | {Measure.Percentile(timesB, .99):F2} | {b50 / a50:F2} |");
    }
    return 0;
}

static async Task<int> DeepAsync(BenchOptions options, bool noCursor)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(options.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
    var targets = new List<(string Name, string Path)>
    {
        ("list default", "/ui/runs/list"),
        ("offset 100,000, status=completed", "/ui/runs/list?status=completed&offset=100000"),
        ("offset 500,000", "/ui/runs/list?offset=500000"),
        ("offset 500,000, sort=-duration", "/ui/runs/list?sort=-duration&offset=500000"),
        // A different offset each request: served from the places the first deep jump walked.
        ("any offset 1,000-500,000, a new one each request", "/ui/runs/list?offset={offset}"),
    };
    if (!noCursor)
    {
        using var page = JsonDocument.Parse(await http.GetStringAsync("/api/runs?offset=500000&limit=20"));
        targets.Add(("Next from offset 500,000 (after=)", "/ui/runs/list?offset=500020&after=" + page.RootElement.GetProperty("next").GetString()));
    }
    Console.WriteLine($"| target | idle p50 ms | idle p99 ms | p50 ms, {options.Writers} writers ingesting | p99 ms, {options.Writers} writers ingesting |");
    Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
    var count = Math.Min(options.LatencyRequests, 500);
    var offsets = new Random(21);
    foreach (var (name, target) in targets)
    {
        var path = () => target.Replace("{offset}", offsets.Next(1_000, 500_001).ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (var i = 0; i < 20; i++) await GetAsync(http, path());
        var idle = await TimesAsync(http, path, count);
        using var stop = new CancellationTokenSource();
        var writers = Measure.IngestAsync(http, options.Writers, 3_600, stop.Token);
        await Task.Delay(1_000);
        var busy = await TimesAsync(http, path, count);
        await stop.CancelAsync();
        var (total, perSecond, failures, _) = await writers;
        Console.WriteLine($"| {name} `{target.Split("&after=")[0]}` | {Measure.Percentile(idle, .5):F2} | {Measure.Percentile(idle, .99):F2} | {Measure.Percentile(busy, .5):F2} | {Measure.Percentile(busy, .99):F2} ({perSecond:N0} writes/s, {failures} failed) |");
    }
    return 0;
}

static async Task<List<double>> TimesAsync(HttpClient http, Func<string> path, int count)
{
    var times = new List<double>(count);
    for (var i = 0; i < count; i++) times.Add(await TimeAsync(http, path()));
    times.Sort();
    return times;
}

static async Task<string> SampleRunIdAsync(HttpClient http)
{
    using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/runs?status=failed&limit=1&offset=100"));
    return doc.RootElement.GetProperty("items")[0].GetProperty("id").GetString()!;
}

// p99 of 2,000 requests is the 20th slowest: one stall of a few milliseconds (a collection, the VM's neighbours)
// that catches a handful of requests moves it far less than the 5th slowest of 500 it was. Sorted on return.
static async Task<(List<double> Target, List<double> Static)> MeasureLatencyAsync(HttpClient http, string path, string staticPath, int count)
{
    for (var i = 0; i < Math.Min(50, count); i++) await GetAsync(http, path); // warm-up
    var latencies = new List<double>(count);
    var statics = new List<double>(count);
    for (var i = 0; i < count; i++)
    {
        latencies.Add(await TimeAsync(http, path));
        statics.Add(await TimeAsync(http, staticPath));
    }
    latencies.Sort();
    statics.Sort();
    return (latencies, statics);
}

static async Task<double> TimeAsync(HttpClient http, string path)
{
    var start = Stopwatch.GetTimestamp();
    await GetAsync(http, path);
    return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
}

static async Task<double> MeasureThroughputAsync(HttpClient http, string path, int connections, int seconds)
{
    var stop = Stopwatch.StartNew();
    var done = 0L;
    var workers = Enumerable.Range(0, connections).Select(async _ =>
    {
        while (stop.Elapsed.TotalSeconds < seconds)
        {
            await GetAsync(http, path);
            Interlocked.Increment(ref done);
        }
    });
    await Task.WhenAll(workers);
    return done / stop.Elapsed.TotalSeconds;
}

// wrk (Debian's package) costs the shared cores far less than a .NET client, so throughput is its figure when present.
static bool WrkAvailable() => File.Exists("/usr/bin/wrk");

static async Task<double> MeasureWithWrkAsync(string url, int connections, int seconds, string? acceptEncoding = BenchOptions.AcceptEncoding)
{
    string[] header = acceptEncoding is null ? [] : ["-H", "Accept-Encoding: " + acceptEncoding];
    var start = new ProcessStartInfo("/usr/bin/wrk", ["-t2", $"-c{connections}", $"-d{seconds}s", .. header, url])
    {
        RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
    };
    using var wrk = Process.Start(start)!;
    var text = await wrk.StandardOutput.ReadToEndAsync();
    await wrk.WaitForExitAsync();
    if (text.Contains("Non-2xx", StringComparison.Ordinal)) throw new InvalidOperationException($"wrk saw non-2xx answers from {url}:\n{text}");
    var line = text.Split('\n').First(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal));
    return double.Parse(line["Requests/sec:".Length..].Trim(), CultureInfo.InvariantCulture);
}

// Ingest through wrk with bench/ingest.lua: each request creates a run; failures are its non-2xx count.
static Task<(long Total, double PerSecond, long Failures, long Locked)> MeasureIngestWithWrkAsync(string baseUrl, int writers, int seconds) =>
    MeasureWritesWithWrkAsync("ingest.lua", baseUrl + "/api/runs", writers, seconds);

// Progress reports (an engine's PATCH of a running run): `ProgressRuns` running runs made by one batch, then each
// request reports one of them, picked at random (bench/progress.lua, or the .NET client without wrk). The ids are the
// run's own, as a kept store holds the runs of the bench's earlier runs.
static async Task<(long Total, double PerSecond, long Failures, long Locked)> MeasureProgressAsync(HttpClient http, string baseUrl, int writers, int seconds)
{
    var prefix = $"bench-progress-{DateTime.UtcNow:yyyyMMddHHmmss}";
    var lines = Enumerable.Range(0, ProgressRuns).Select(i =>
        $$"""{"type":"run","id":"{{prefix}}-{{i}}","workflowName":"bench-progress","name":"Progress {{i}}","status":"running"}""");
    using (var made = await http.PostAsync("/api/ingest", new StringContent(string.Join('\n', lines) + "\n", Encoding.UTF8, "application/x-ndjson")))
    {
        if (!made.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/ingest answered {(int)made.StatusCode}: {await made.Content.ReadAsStringAsync()}");
    }
    if (WrkAvailable()) return await MeasureWritesWithWrkAsync("progress.lua", baseUrl, writers, seconds, prefix, ProgressRuns.ToString(CultureInfo.InvariantCulture));
    await Measure.ProgressAsync(http, prefix, ProgressRuns, writers, IngestWarmUpSeconds);
    return await Measure.ProgressAsync(http, prefix, ProgressRuns, writers, seconds);
}

// Writes through wrk with a script of bench/ (its arguments after --), after as long again unmeasured; failures are
// its non-2xx count.
static async Task<(long Total, double PerSecond, long Failures, long Locked)> MeasureWritesWithWrkAsync(string scriptName, string url, int writers, int seconds,
    params string[] scriptArgs)
{
    var script = Path.Combine(AppContext.BaseDirectory, scriptName);
    async Task<string> RunWrkAsync(int forSeconds)
    {
        string[] passed = scriptArgs.Length == 0 ? [] : ["--", .. scriptArgs];
        var start = new ProcessStartInfo("/usr/bin/wrk", ["-t2", $"-c{writers}", $"-d{forSeconds}s", "-s", script, url, .. passed])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var wrk = Process.Start(start)!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        return output;
    }
    // The reads before warmed the server's read paths; ten seconds of writes warm the write path unmeasured. With three,
    // the measured seconds still paid for .NET's tiered compilation of that path (docs/PERFORMANCE.md, "Ingest warm-up").
    await RunWrkAsync(IngestWarmUpSeconds);
    var text = await RunWrkAsync(seconds);
    var lines = text.Split('\n');
    var perSecond = double.Parse(lines.First(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal))["Requests/sec:".Length..].Trim(), CultureInfo.InvariantCulture);
    var total = long.Parse(lines.First(l => l.Contains(" requests in ", StringComparison.Ordinal)).Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    var failures = lines.FirstOrDefault(l => l.Contains("Non-2xx", StringComparison.Ordinal)) is { } bad
        ? long.Parse(bad.Split(':')[1].Trim(), CultureInfo.InvariantCulture) : 0;
    return (total, perSecond, failures, 0);
}

static async Task GetAsync(HttpClient http, string path)
{
    using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead);
    if (response.StatusCode != HttpStatusCode.OK)
        throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}");
}

// As with wrk: ten seconds of writes warm the write path, unmeasured.
static async Task<(long Total, double PerSecond, long Failures, long Locked)> WarmThenMeasureIngestAsync(HttpClient http, int writers, int seconds)
{
    await Measure.IngestAsync(http, writers, IngestWarmUpSeconds);
    return await Measure.IngestAsync(http, writers, seconds);
}

static async Task<int> CombineAsync(string[] args)
{
    var outIndex = Array.IndexOf(args, "--out");
    var output = outIndex > 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : null;
    var stores = args.Skip(1).TakeWhile(a => a != "--out").Select(a => a.Split('=', 2)).Select(p => (Label: p[0], Path: p[1])).ToList();
    var rows = new List<(string Label, string[][] Lines)>();
    foreach (var (label, path) in stores)
        rows.Add((label, (await File.ReadAllLinesAsync(path)).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToArray()));
    var lines = new List<string>
    {
        "| target | " + string.Join(" | ", stores.Select(s => $"{s.Label} p50 ms | {s.Label} p99 ms | {s.Label} req/s")) + " |",
        "| --- |" + string.Concat(Enumerable.Repeat(" ---: | ---: | ---: |", stores.Count)),
    };
    foreach (var first in rows[0].Lines.Where(l => l[0] is not ("ingest" or "progress")))
    {
        var cells = rows.Select(r => r.Lines.FirstOrDefault(l => l[0] == first[0]) is { } l
            ? $"{l[2]} | {l[3]} | {(l[4].Length == 0 ? "–" : double.Parse(l[4], CultureInfo.InvariantCulture).ToString("N0", CultureInfo.InvariantCulture))}" : "– | – | –");
        lines.Add($"| {first[0]} `{first[1]}` | {string.Join(" | ", cells)} |");
    }
    var ingest = rows.Select(r => r.Lines.FirstOrDefault(l => l[0] == "ingest") is { } l
        ? $"{double.Parse(l[4], CultureInfo.InvariantCulture):N0} ({l[5]} failed)" : "–");
    lines.Add("| ingest `POST /api/runs`, writes/s from 8 writers |" + string.Concat(ingest.Select(i => $" | | {i} |")));
    var progress = rows.Select(r => r.Lines.FirstOrDefault(l => l[0] == "progress") is { } l
        ? $"{double.Parse(l[4], CultureInfo.InvariantCulture):N0} ({l[5]} failed)" : "–");
    lines.Add("| progress reports `PATCH /api/runs/{id}`, updates/s from 8 writers |" + string.Concat(progress.Select(p => $" | | {p} |")));
    if (output is not null) await File.WriteAllLinesAsync(output, lines);
    foreach (var line in lines) Console.WriteLine(line);
    return 0;
}

sealed record BenchOptions(string BaseUrl, int LatencyRequests, int Connections, int ThroughputSeconds, int Writers, string? Output, string? Figures)
{
    /// What a browser accepts (wrk's requests say it too); the app answers Brotli.
    public const string AcceptEncoding = "br, gzip";

    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new BenchOptions(Value("--url") ?? "http://127.0.0.1:5099", Int("--requests", 2_000), Int("--connections", 16),
            Int("--seconds", 10), Int("--writers", 8), Value("--out"), Value("--tsv"));
    }
}
