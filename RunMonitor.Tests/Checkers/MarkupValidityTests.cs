using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Checkers;

/// The Nu HTML checker (vnu.jar from npm, on Debian's Java) over every page and fragment the UI serves, in one run.
/// Any error fails the test except htmx's own `hx-*` attributes, which HTML does not define.
public sealed partial class MarkupValidityTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient(new() { AllowAutoRedirect = false });

    [GeneratedRegex("^Attribute “hx-[a-z-]+” not allowed on element “[a-z0-9]+” at this point\\.$")]
    private static partial Regex HtmxAttribute();

    private const string Navigate = "navigate:";

    [Fact]
    public async Task EveryPageAndFragment_NuChecker_NoErrors()
    {
        var urls = await SeedAsync();
        var folder = Directory.CreateTempSubdirectory("runmonitor-vnu-");
        try
        {
            var files = new Dictionary<string, string>();
            var i = 0;
            foreach (var (url, expected) in urls)
            {
                // "navigate:": asked as a browser's own navigation, which gets an error as a page around its fragment.
                var navigate = url.StartsWith(Navigate, StringComparison.Ordinal);
                using var request = new HttpRequestMessage(HttpMethod.Get, navigate ? url[Navigate.Length..] : url);
                if (navigate) request.Headers.Add("Sec-Fetch-Mode", "navigate");
                var response = await _client.SendAsync(request);
                Assert.True(response.StatusCode == expected, $"GET {url} answered {(int)response.StatusCode}, expected {(int)expected}");
                var html = await response.Content.ReadAsStringAsync();
                // A fragment is checked as the body of a minimal document, which is where htmx puts it.
                if (!html.TrimStart().StartsWith("<!DOCTYPE", StringComparison.OrdinalIgnoreCase))
                    html = $"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fragment</title></head><body>{html}</body></html>";
                var file = Path.Combine(folder.FullName, $"{i++:00}.html");
                await File.WriteAllTextAsync(file, html);
                files[new Uri(file).AbsoluteUri] = url;
            }

            var messages = await RunVnuAsync(files.Keys.Select(f => new Uri(f).LocalPath));

            var errors = messages
                .Where(m => m.Type == "error" && !HtmxAttribute().IsMatch(m.Message))
                .Select(m => $"{files.GetValueOrDefault(m.Url, m.Url)} line {m.Line}: {m.Message} [{m.Extract?.ReplaceLineEndings(" ").Trim()}]")
                .ToList();
            Assert.True(errors.Count == 0, "Nu HTML checker errors:\n" + string.Join("\n", errors));
            // The filter above only lets htmx through: the checker did see the documents and their hx-* attributes.
            Assert.Contains(messages, m => HtmxAttribute().IsMatch(m.Message));
        }
        finally { folder.Delete(recursive: true); }
    }

    private sealed record VnuMessage(string Type, string Url, int Line, string Message, string? Extract);

    private static async Task<List<VnuMessage>> RunVnuAsync(IEnumerable<string> files)
    {
        var start = new ProcessStartInfo("java") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-Xss2m", "-jar", CheckerFiles.VnuPath, "--errors-only", "--format", "json", "--exit-zero-always" }) start.ArgumentList.Add(a);
        foreach (var f in files) start.ArgumentList.Add(f);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("The Nu HTML checker needs Java: apt-get install -y default-jre-headless (.ci/run does this).", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var json = (await stderr).Trim();
            Assert.True(process.ExitCode == 0 && json.StartsWith('{'), $"vnu exited {process.ExitCode}: {json}{await stdout}");
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.GetProperty("messages").EnumerateArray().Select(m => new VnuMessage(
                m.GetProperty("type").GetString()!,
                m.TryGetProperty("url", out var u) ? u.GetString()! : "",
                m.TryGetProperty("lastLine", out var l) ? l.GetInt32() : 0,
                m.GetProperty("message").GetString()!,
                m.TryGetProperty("extract", out var x) ? x.GetString() : null)).ToList();
        }
    }

    /// Runs in every state a page shows, and the URL of every page and fragment (with the status it answers).
    private async Task<List<(string Url, HttpStatusCode Status)>> SeedAsync()
    {
        string Iso(int minutesAgo) => factory.Clock.GetUtcNow().AddMinutes(-minutesAgo).ToString("O");
        await _client.CreateRunAsync(new
        {
            id = "vnu-failed", workflowName = "campaign", name = "Failing <campaign>", status = "running", startedAt = Iso(10),
            triggerPayload = new { campaignId = "cmp_1", tags = new[] { "a", "b" }, nested = new { on = true, none = (string?)null } },
            steps = new[] { new { stepId = "config", skillId = "config.make" }, new { stepId = "render", skillId = "page.render" }, new { stepId = "ship", skillId = "cdn.ship" } },
        });
        await _client.PutStepAsync("vnu-failed", "config", new { status = "completed", startedAt = Iso(10), completedAt = Iso(9), output = new { ok = 1 } });
        await _client.PutStepAsync("vnu-failed", "render", new { status = "failed", startedAt = Iso(9), completedAt = Iso(8), error = new { message = "boom", stack = "at render\n  at main" } });
        await _client.PatchJsonAsync("/api/runs/vnu-failed", new
        {
            status = "failed", completedAt = Iso(8), error = new { message = "boom", type = "RenderError", stack = "at run" },
            errors = new[] { new { topic = "user:1", error = "quota", node = "n1" } },
            usage = new { model = "gpt-4o-mini", tokensInput = 100, tokensOutput = 10 },
            metrics = new { targetsMatched = 4, targetsProcessed = 3, targetsSkipped = 1, insightsCreated = 2 },
        });
        var artifact = await _client.PostAsync("/api/runs/vnu-failed/steps/config/artifacts?name=notes.txt", new StringContent("hello", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.Created, artifact.StatusCode);
        await _client.CreateRunAsync(new
        {
            id = "vnu-running", workflowName = "digest", name = "Live digest", status = "running", startedAt = Iso(2),
            steps = new[] { new { stepId = "a" }, new { stepId = "b" } },
        });
        await _client.PutStepAsync("vnu-running", "a", new { status = "running", startedAt = Iso(1) });
        await _client.CreateRunAsync(new { id = "vnu-queued", workflowName = "digest", name = "Waiting" });
        await _client.CreateRunAsync(new { id = "vnu-done", workflowName = "digest", status = "completed", startedAt = Iso(30), completedAt = Iso(29), dryRun = true });
        var retry = await _client.PostAsync("/api/runs/vnu-failed/retry", JsonContent(new { }));
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        // Issue 19: a saved view for the runs page's links, and a list for the run views' previous/next.
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsync("/api/views", JsonContent(new { name = "Failed <digest> & co", query = "status=failed" }))).StatusCode);
        // A bulk retry, followed to its end: the operations list, its page with the runs it retried, its progress card.
        await _client.CreateRunAsync(new { id = "vnu-bulk", workflowName = "digest", name = "Bulk <retried>", status = "failed" });
        var bulk = await _client.PostAsync("/api/bulk", JsonContent(new { action = "retry", ids = new[] { "vnu-bulk" }, expectedCount = 1 }));
        Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
        var bulkId = JsonDocument.Parse(await bulk.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        for (var tries = 0; tries < 100 && JsonDocument.Parse(await _client.GetStringAsync($"/api/bulk/{bulkId}")).RootElement.GetProperty("status").GetString() == "running"; tries++)
            await Task.Delay(100);

        return
        [
            ("/ui/runs", HttpStatusCode.OK),
            ("/ui/runs?status=failed,partial&q=camp&from=2026-11-01&to=2026-11-21T10:00:00Z&sort=-duration&limit=50", HttpStatusCode.OK),
            ("/ui/runs?status=bogus", HttpStatusCode.BadRequest),
            ("/ui/runs?q=zzzz-nothing", HttpStatusCode.OK),
            ("/ui/runs/stats", HttpStatusCode.OK),
            ("/ui/runs/stats?period=24h", HttpStatusCode.OK),
            ("/ui/runs/list", HttpStatusCode.OK),
            ("/ui/runs/list?offset=1&limit=1", HttpStatusCode.OK),
            ("/ui/runs/list?status=bogus", HttpStatusCode.BadRequest),
            ("/ui/runs/recent", HttpStatusCode.OK),
            ("/ui/runs/vnu-failed", HttpStatusCode.OK),
            ("/ui/runs/vnu-running", HttpStatusCode.OK),
            ("/ui/runs/vnu-queued", HttpStatusCode.OK),
            ("/ui/runs/nope", HttpStatusCode.NotFound),
            ("/ui/runs/vnu-running/live?seen=running", HttpStatusCode.OK),
            ("/ui/runs/vnu-running/actions", HttpStatusCode.OK),
            ("/ui/runs/vnu-failed/steps", HttpStatusCode.OK),
            ("/ui/runs/vnu-running/steps?step=a", HttpStatusCode.OK),
            ("/ui/runs/vnu-failed/steps/render", HttpStatusCode.OK),
            ("/ui/runs/vnu-failed/steps/config", HttpStatusCode.OK),
            ("/runs/vnu-failed", HttpStatusCode.OK),
            ("/runs/vnu-failed?step=config", HttpStatusCode.OK),
            ("/runs/vnu-running", HttpStatusCode.OK),
            ("/runs/vnu-queued", HttpStatusCode.OK),
            ("/runs/vnu-done", HttpStatusCode.OK),
            ("/runs/vnu-failed?step=nope", HttpStatusCode.NotFound),
            ("/runs/nope", HttpStatusCode.NotFound),
            ("/runs/vnu-done?list=layer_name%3Ddigest&at=1", HttpStatusCode.OK),
            ("/ui/runs/vnu-done?list=layer_name%3Ddigest&at=1", HttpStatusCode.OK),
            ("/runs/vnu-done?list=status%3Dbogus&at=1", HttpStatusCode.BadRequest),
            ("/ui/runs?status=failed", HttpStatusCode.OK),
            ("/admin", HttpStatusCode.OK),
            ("/admin?days=30", HttpStatusCode.OK),
            ("/admin?days=9", HttpStatusCode.BadRequest),
            ("/ui/nothing", HttpStatusCode.NotFound),
            (Navigate + "/ui/nothing", HttpStatusCode.NotFound),
            (Navigate + "/ui/workers?zzz=1", HttpStatusCode.BadRequest),
            ("/login", HttpStatusCode.OK),
            ("/bulk", HttpStatusCode.OK),
            ($"/bulk/{bulkId}", HttpStatusCode.OK),
            ($"/bulk/{bulkId}?offset=50", HttpStatusCode.OK),
            ($"/bulk/{bulkId}?offset=x", HttpStatusCode.BadRequest),
            ("/bulk/999999", HttpStatusCode.NotFound),
            ($"/ui/bulk/{bulkId}", (HttpStatusCode)286),
        ];
    }

    private static StringContent JsonContent(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}
