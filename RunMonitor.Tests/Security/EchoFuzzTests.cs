using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RunMonitor.Tests.Infrastructure;
using Route = RunMonitor.Tests.Security.RouteTable.Route;

namespace RunMonitor.Tests.Security;

/// Properties every route of the route table keeps whatever it is sent, checked over generated hostile values (a
/// fixed seed, a fixed number of requests per route, a few seconds): no 5xx, nothing logged as an error or an
/// unhandled exception, every value echoed into HTML is HTML-encoded, and every refusal under /api is problem+json.
/// Each value carries the tag `<rm-echo…>`: seen raw in an HTML answer, some value was echoed unencoded.
public sealed class EchoFuzzTests
{
    private const int RequestsPerRoute = 10;
    private const string Tag = "<rm-echo";

    /// Fixed, so a failure replays; `RUNMONITOR_ECHO_SEED=n` explores another sequence.
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("RUNMONITOR_ECHO_SEED"), out var seed) ? seed : 20;

    private static readonly string[] QueryNames =
    [
        .. RunMonitor.Web.Runs.RunFilter.Parameters, "step", "seen", "badge", "scope", "period", "days", "disposition", "name",
        "returnUrl", "handler", "fromFailedStep", "tenant", "key",
    ];

    private static readonly string[] Salt = ["", "'", "\"", "&amp;", "\u202E", "🙂", "%", "\\", "{{7*7}}", "${x}", "..", "a b", "\r\n", "漢字"];

    [Theory]
    [InlineData(TestStore.Sqlite)]
    [InlineData(TestStore.Postgres)]
    public async Task EveryRoute_GeneratedHostileValues_NoServerErrorEncodedEchoesProblemJsonOnApi(TestStore store)
    {
        // Arrange: a finished run with a step, an artifact and payloads, and a page's antiforgery token and cookie
        // (so posts reach their handlers, not only the antiforgery check).
        await using var factory = new LoggingFactory(store);
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        // Stored values carry the tag too: every view of the run echoes them.
        const string stored = Tag + "0 a=\"1\">stored 'name' & \"quotes\"</rm-echo>";
        await client.CreateRunAsync(new
        {
            id = "echo-run", workflowName = "echo", name = stored, status = "running", steps = new[] { new { stepId = "s1", skillId = stored } },
            context = new Dictionary<string, string> { [stored] = stored },
        });
        await client.PutStepAsync("echo-run", "s1", new { status = "failed", output = new { echo = stored }, error = new { message = stored, stack = stored } });
        var upload = await client.PostAsync("/api/runs/echo-run/steps/s1/artifacts?name=" + Uri.EscapeDataString(stored.Replace("/", "")), new StringContent("echo"));
        var artifactId = (await upload.JsonAsync()).GetProperty("id").GetString()!;
        await client.PatchJsonAsync("/api/runs/echo-run", new { status = "failed", error = new { message = stored, type = stored }, errors = new[] { new { topic = stored, error = stored, node = stored } } });
        var page = await client.GetAsync("/ui/runs");
        var cookie = string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var token = JsonDocument.Parse((await Html.ParseAsync(page)).Body!.GetAttribute("hx-headers")!).RootElement.GetProperty("RequestVerificationToken").GetString()!;
        var routes = await RouteTable.ReadAsync(factory.Services);
        var random = new Random(Seed);
        var problems = new List<string>();
        var encodedEchoes = 0;

        // Act and assert, request by request
        foreach (var route in routes)
        {
            for (var i = 0; i < RequestsPerRoute; i++)
            {
                var request = Generate(random, route, artifactId, i);
                request.Headers.Add("Cookie", cookie);
                if (random.Next(3) > 0) request.Headers.Add("RequestVerificationToken", token);
                if (random.Next(2) == 0) request.Headers.Add("HX-Request", "true");
                factory.Log.Current = $"{request.Method} {request.RequestUri}";
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var type = response.Content.Headers.ContentType?.MediaType ?? "";
                var body = type == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync(timeout.Token);
                var what = $"{route.Display} as {request.Method} {request.RequestUri} → {(int)response.StatusCode} {type}";

                if ((int)response.StatusCode >= 500) problems.Add($"{what}: a server error");
                if (type == "text/html" && body.Contains(Tag, StringComparison.Ordinal)) problems.Add($"{what}: echoed a value unencoded: {Around(body)}");
                if (type == "text/html" && body.Contains("&lt;rm-echo", StringComparison.Ordinal)) encodedEchoes++;
                if (request.RequestUri!.OriginalString.StartsWith("/api", StringComparison.Ordinal) && (int)response.StatusCode >= 400)
                {
                    if (type != "application/problem+json") problems.Add($"{what}: an /api refusal that is not problem+json");
                    else if (JsonDocument.Parse(body).RootElement.GetProperty("status").GetInt32() != (int)response.StatusCode)
                        problems.Add($"{what}: the problem's status is not the answer's");
                }
                problems.AddRange(factory.Log.Drain());
                if (problems.Count > 30) break;
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} broken properties:\n" + string.Join("\n", problems.Take(30)));
        // The values did reach pages that echo them (else the encoding property was never put to the test).
        Assert.True(encodedEchoes >= 20, $"only {encodedEchoes} HTML answers echoed a generated value");
    }

    private static string Around(string body)
    {
        var at = body.IndexOf(Tag, StringComparison.Ordinal);
        return body.Substring(Math.Max(0, at - 80), Math.Min(200, body.Length - Math.Max(0, at - 80)));
    }

    /// A hostile value: the tag with a serial number, salted with quotes, bidi, emoji, template and path syntax.
    private static string Hostile(Random random, int serial) =>
        $"{Tag}{serial} a=\"1\">{Salt[random.Next(Salt.Length)]}</rm-echo>{Salt[random.Next(Salt.Length)]}";

    private static HttpRequestMessage Generate(Random random, Route route, string artifactId, int serial)
    {
        // Half the time each parameter names the seeded things, so the query and body reach the handler behind it.
        var real = random.Next(2) == 0;
        var path = RouteTable.PathFor(route, parameter => (parameter.Name switch
        {
            "handler" => route.Handler?.ToLowerInvariant(),
            "id" or "runId" when real => "echo-run",
            "stepId" when real => "s1",
            "artifactId" when real => artifactId,
            "field" when real => route.Pattern.Parameters.Any(p => p.Name == "stepId") ? "input" : "context",
            "format" when real => random.Next(2) == 0 ? "csv" : "json",
            _ => Hostile(random, serial),
        }) is { } value ? Uri.EscapeDataString(value) : null);
        var query = new List<string>();
        if (route.Handler is not null && !route.Pattern.Parameters.Any(p => p.Name == "handler")) query.Add("handler=" + route.Handler.ToLowerInvariant());
        for (var n = random.Next(4); n > 0; n--)
        {
            var name = random.Next(5) == 0 ? Hostile(random, serial) : QueryNames[random.Next(QueryNames.Length)];
            query.Add(Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(Hostile(random, serial)));
        }
        var request = new HttpRequestMessage(new HttpMethod(route.Method), query.Count == 0 ? path : path + "?" + string.Join('&', query));
        if (route.Method is "POST" or "PUT" or "PATCH")
        {
            var value = JsonSerializer.Serialize(Hostile(random, serial));
            request.Content = random.Next(3) switch
            {
                0 => new FormUrlEncodedContent(new Dictionary<string, string> { ["fromFailedStep"] = Hostile(random, serial), ["key"] = Hostile(random, serial), ["returnUrl"] = Hostile(random, serial) }),
                1 => new StringContent($"{{\"workflowName\":{value},\"name\":{value},\"status\":{value},\"worker\":{value},\"fromStep\":{value},\"skillId\":{value}}}", Encoding.UTF8, "application/json"),
                _ => new StringContent($"{{\"workflowName\":{value},\"id\":{value},{value}:1}}", Encoding.UTF8, "application/json"),
            };
        }
        return request;
    }

    private sealed class LoggingFactory(TestStore store) : RunMonitorFactory(store)
    {
        public HostileInputTests.LogCapture Log { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddSingleton<ILoggerProvider>(Log));
        }
    }
}
