using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Data.Sqlite;

namespace RunMonitor.Tests.Data;

/// The real app as its own OS process on a temp database: eight writers ingest runs, steps and status
/// changes, the server is killed (SIGKILL) once enough writes were acknowledged, and a restarted server
/// must still hold every write that got a 2xx, with the file intact and the trigger-kept counters exact.
public sealed class CrashSafetyTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private const int Writers = 8;
    private const int KillAfterAcknowledged = 400;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runmonitor-crash", Guid.NewGuid().ToString("N"));

    private string DatabasePath
    {
        get
        {
            Directory.CreateDirectory(_directory);
            return Path.Combine(_directory, "runmonitor.db");
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// What a writer knows of one run: the state of its last acknowledged write and, if a write was in
    /// flight when the server died, the state that write would have made (it may or may not have landed).
    private sealed class Expected
    {
        public required string RunId { get; init; }
        public RunState? Acked { get; set; }
        public RunState? Pending { get; set; }
    }

    private sealed record RunState(string Status, string Name, string Context, IReadOnlyDictionary<string, StepState> Steps);

    private sealed record StepState(string Status, string? Input, string? Output);

    [Fact]
    public async Task Ingest_ServerKilledMidStream_EveryAcknowledgedWriteSurvivesRestart()
    {
        // Arrange
        var port = FreePort();
        var first = AppProcess.Start(DatabasePath, port);
        var expected = new ConcurrentBag<Expected>();
        var acknowledged = 0;
        var killed = new TaskCompletionSource();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
            await first.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));

            // Act: eight writers, each on its own runs, one write in flight at a time; the kill comes after N acknowledgements.
            void Acknowledge()
            {
                if (Interlocked.Increment(ref acknowledged) == KillAfterAcknowledged)
                {
                    first.Kill();
                    killed.TrySetResult();
                }
            }
            var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteUntilKilledAsync(client, w, expected, Acknowledge, killed.Task)));
            var all = Task.WhenAll(writers);
            var finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.True(finished == all, $"the writers did not stop within 30 s ({acknowledged} writes acknowledged): {first.Output}");
            await all;
            Assert.True(killed.Task.IsCompleted, $"the writers stopped before the kill after {acknowledged} acknowledged writes: {first.Output}");
            Assert.True(first.HasExited, "the first server still runs after SIGKILL");
        }
        finally
        {
            first.Kill();
        }

        // Assert: a second server on the same file answers every acknowledged write with its content.
        var second = AppProcess.Start(DatabasePath, port = FreePort());
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
            await second.WaitUntilReadyAsync(client, TimeSpan.FromSeconds(30));
            var problems = new List<string>();
            var checkedRuns = 0;
            foreach (var run in expected.Where(e => e.Acked is not null))
            {
                checkedRuns++;
                var actual = await ReadRunAsync(client, run.RunId);
                if (actual is null) { problems.Add($"run {run.RunId} was acknowledged but is gone"); continue; }
                if (!Matches(actual, run.Acked!) && (run.Pending is null || !Matches(actual, run.Pending)))
                    problems.Add($"run {run.RunId}: expected {Describe(run.Acked!)}{(run.Pending is null ? "" : $" or {Describe(run.Pending)}")}, found {Describe(actual)}");
                if (problems.Count >= 10) break;
            }
            Assert.True(problems.Count == 0, string.Join("\n", problems));
            Assert.True(checkedRuns >= Writers, $"only {checkedRuns} runs were acknowledged");
            output.WriteLine($"{acknowledged} writes acknowledged before the kill; {checkedRuns} runs checked after the restart, " +
                             $"{expected.Count(e => e.Pending is not null)} with a write in flight at the kill");
        }
        finally
        {
            second.Kill();
        }

        // The file itself: intact, and the counters the triggers keep agree with the rows.
        SqliteConnection.ClearAllPools();
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        Assert.Equal("ok", await connection.ExecuteScalarAsync<string>("PRAGMA integrity_check"));
        Assert.Equal(await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs"),
            await connection.ExecuteScalarAsync<long>("SELECT COALESCE(SUM(n), 0) FROM run_counts"));
        var counted = (await connection.QueryAsync<(string Status, long N)>("SELECT status, SUM(n) FROM run_counts GROUP BY status HAVING SUM(n) <> 0 ORDER BY status")).ToList();
        var actualCounts = (await connection.QueryAsync<(string Status, long N)>("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")).ToList();
        Assert.Equal(actualCounts, counted);
    }

    /// One writer's loop: create a run with two steps, start it, run each step, finish the run; again.
    private static async Task WriteUntilKilledAsync(HttpClient client, int writer, ConcurrentBag<Expected> expected, Action acknowledge, Task killed)
    {
        var statuses = new[] { "completed", "failed", "partial" };
        for (var i = 0; !killed.IsCompleted; i++)
        {
            var run = new Expected { RunId = $"crash-w{writer}-{i}" };
            expected.Add(run);
            var name = $"crash run {writer}/{i} ✓";
            var context = $$"""{"writer":{{writer}},"i":{{i}},"note":"é ✓ \" \\"}""";
            var steps = new Dictionary<string, StepState> { ["s1"] = new("pending", null, null), ["s2"] = new("pending", null, null) };
            var state = new RunState("queued", name, context, steps);

            // Each write: remember what it would make, send it, and on a 2xx make that the acknowledged state.
            async Task<bool> WriteAsync(RunState next, Func<Task<HttpResponseMessage>> send)
            {
                run.Pending = next;
                HttpResponseMessage response;
                try { response = await send(); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { return false; }
                using (response)
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        // A refusal is a bug in this test or the app, unless the server is going down under it.
                        if (killed.IsCompleted) return false;
                        throw new InvalidOperationException($"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                }
                run.Acked = next;
                run.Pending = null;
                state = next;
                acknowledge();
                return true;
            }

            var created = new { id = run.RunId, workflowName = $"crash-wf-{writer % 3}", name, context = JsonNode.Parse(context), steps = new[] { new { stepId = "s1" }, new { stepId = "s2" } } };
            if (!await WriteAsync(state, () => client.PostAsJsonAsync("/api/runs", created))) return;
            if (!await WriteAsync(state with { Status = "running" }, () => client.PatchAsync($"/api/runs/{run.RunId}", JsonContent.Create(new { status = "running" })))) return;
            foreach (var stepId in new[] { "s1", "s2" })
            {
                var input = $$"""{"step":"{{stepId}}","run":"{{run.RunId}}"}""";
                var runningSteps = new Dictionary<string, StepState>(state.Steps) { [stepId] = new("running", input, null) };
                if (!await WriteAsync(state with { Steps = runningSteps },
                        () => client.PutAsJsonAsync($"/api/runs/{run.RunId}/steps/{stepId}", new { status = "running", input = JsonNode.Parse(input) }))) return;
                var output = $$"""{"done":"{{stepId}}","n":{{i}}}""";
                var doneSteps = new Dictionary<string, StepState>(state.Steps) { [stepId] = new("completed", input, output) };
                if (!await WriteAsync(state with { Steps = doneSteps },
                        () => client.PutAsJsonAsync($"/api/runs/{run.RunId}/steps/{stepId}", new { status = "completed", output = JsonNode.Parse(output) }))) return;
            }
            var final = statuses[(writer + i) % statuses.Length];
            if (!await WriteAsync(state with { Status = final }, () => client.PatchAsync($"/api/runs/{run.RunId}", JsonContent.Create(new { status = final })))) return;
        }
    }

    private static async Task<RunState?> ReadRunAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/api/runs/{Uri.EscapeDataString(id)}");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var steps = JsonNode.Parse(await client.GetStringAsync($"/api/runs/{Uri.EscapeDataString(id)}/steps"))!.AsArray();
        return new RunState(
            run["status"]!.GetValue<string>(), run["name"]!.GetValue<string>(), Canonical(run["context"]),
            steps.ToDictionary(s => s!["stepId"]!.GetValue<string>(),
                s => new StepState(s!["status"]!.GetValue<string>(), CanonicalOrNull(s["input"]), CanonicalOrNull(s["output"]))));
    }

    private static bool Matches(RunState actual, RunState expected) =>
        actual.Status == expected.Status && actual.Name == expected.Name && actual.Context == Canonical(JsonNode.Parse(expected.Context))
        && actual.Steps.Count == expected.Steps.Count
        && expected.Steps.All(s => actual.Steps.TryGetValue(s.Key, out var a) && a.Status == s.Value.Status
            && a.Input == CanonicalOrNull(s.Value.Input is null ? null : JsonNode.Parse(s.Value.Input))
            && a.Output == CanonicalOrNull(s.Value.Output is null ? null : JsonNode.Parse(s.Value.Output)));

    private static string Describe(RunState s) =>
        $"[{s.Status} {s.Name} {s.Context} {string.Join(" ", s.Steps.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value.Status}/{p.Value.Input}/{p.Value.Output}"))}]";

    private static string Canonical(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static string? CanonicalOrNull(JsonNode? node) => node?.ToJsonString();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// The built RunMonitor.Web run as a child process (its apphost, else `dotnet RunMonitor.Web.dll`).
    private sealed class AppProcess
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private AppProcess(Process process) => _process = process;

        public bool HasExited => _process.HasExited;

        /// The last lines the server printed, for a failure message.
        public string Output => string.Join("\n", _lines.TakeLast(30));

        public static AppProcess Start(string databasePath, int port)
        {
            var directory = WebOutputDirectory();
            var apphost = Path.Combine(directory, OperatingSystem.IsWindows() ? "RunMonitor.Web.exe" : "RunMonitor.Web");
            var info = File.Exists(apphost)
                ? new ProcessStartInfo(apphost)
                : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(directory, "RunMonitor.Web.dll") } };
            info.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
            info.WorkingDirectory = directory;
            info.UseShellExecute = false;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.Environment["RunMonitor__Database"] = databasePath;
            info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            info.Environment["DOTNET_ENVIRONMENT"] = "Production";
            info.Environment["Logging__LogLevel__Default"] = "Warning";
            foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("RunMonitor__ApiKeys", StringComparison.OrdinalIgnoreCase)).ToList())
                info.Environment.Remove(key);
            var app = new AppProcess(new Process { StartInfo = info, EnableRaisingEvents = true });
            // Both pipes are drained, so a chatty server never blocks on a full pipe.
            app._process.OutputDataReceived += (_, e) => app.Keep(e.Data);
            app._process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
            app._process.Start();
            app._process.BeginOutputReadLine();
            app._process.BeginErrorReadLine();
            return app;
        }

        private void Keep(string? line)
        {
            if (line is null) return;
            _lines.Enqueue(line);
            while (_lines.Count > 200) _lines.TryDequeue(out _);
        }

        public async Task WaitUntilReadyAsync(HttpClient client, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < timeout)
            {
                Assert.False(_process.HasExited, $"the server exited with code {(_process.HasExited ? _process.ExitCode : 0)}: {Output}");
                try
                {
                    using var response = await client.GetAsync("/api/runs?limit=1");
                    if (response.StatusCode == HttpStatusCode.OK) return;
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
                await Task.Delay(100);
            }
            Assert.Fail($"the server did not answer within {timeout.TotalSeconds} s: {Output}");
        }

        /// SIGKILL on Linux: no shutdown, no flush, no checkpoint.
        public void Kill()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
            catch (InvalidOperationException) { }
        }

        /// `RunMonitor.Web/bin/<configuration>/<tfm>` beside this test assembly's `RunMonitor.Tests/bin/<configuration>/<tfm>`;
        /// else the copy the project reference put next to the test assembly.
        private static string WebOutputDirectory()
        {
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var tfm = testOutput.Name;
            var configuration = testOutput.Parent?.Name;
            for (var dir = testOutput.Parent; dir is not null && configuration is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "RunMonitor.Web", "bin", configuration, tfm);
                if (File.Exists(Path.Combine(candidate, "RunMonitor.Web.dll"))) return candidate;
            }
            Assert.True(File.Exists(Path.Combine(testOutput.FullName, "RunMonitor.Web.dll")), $"RunMonitor.Web.dll not found from {testOutput.FullName}");
            return testOutput.FullName;
        }
    }
}
