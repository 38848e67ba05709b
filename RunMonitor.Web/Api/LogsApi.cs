using System.Text.Json;
using Microsoft.Net.Http.Headers;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// What a step printed (SPEC "Logs"): engines append lines; people and scripts read them as JSON or text.
public static class LogsApi
{
    public static IEndpointRouteBuilder MapLogsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.ApiRunLogs, (string id, HttpContext http, RunService service, CancellationToken ct) => AppendAsync(id, null, http, service, ct))
            .RequireAuthorization(Policies.RequireRead, Policies.RequireIngest).AcceptsQuery(RunTenant.Parameter);
        app.MapPost(Routes.ApiStepLogs, (string id, string stepId, HttpContext http, RunService service, CancellationToken ct) => AppendAsync(id, stepId, http, service, ct))
            .RequireAuthorization(Policies.RequireRead, Policies.RequireIngest).AcceptsQuery(RunTenant.Parameter);
        app.MapRead(Routes.ApiRunLogs, ReadAsync).RequireAuthorization(Policies.RequireRead);
        app.MapRead(Routes.ApiRunLogsText, TextAsync).RequireAuthorization(Policies.RequireRead);
        return app;
    }

    private static async Task<IResult> AppendAsync(string id, string? stepId, HttpContext http, RunService service, CancellationToken ct)
    {
        if (stepId is not null && !IngestParser.IdPattern().IsMatch(stepId))
            return Problems.Validation(new() { ["stepId"] = [$"must be {IngestParser.IdText}"] });
        var (lines, refused) = await LineBody.ReadAsync(http, arrayAllowed: true, ct);
        if (refused is not null) return refused;
        var errors = new Dictionary<string, List<string>>();
        var parsed = IngestParser.ParseLogLines(lines!, stepId, errors);
        if (parsed is null) return Problems.Validation(errors);
        var result = await service.AppendLogsAsync(RunTenant.Of(http), id, parsed, ct);
        if (result.Outcome != WriteOutcome.Ok) return Problems.From(result, id);
        var appended = result.Value!;
        return Results.Json(new { accepted = appended.Accepted, dropped = appended.Dropped }, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ReadAsync(string id, HttpContext http, RunViews runs, LogStore logs, CancellationToken ct)
    {
        var (filter, errors) = LogFilter.Parse(http.Request.Query.ToPairs());
        if (errors is not null) return Problems.BadParameters(errors);
        var run = await runs.GetAsync(RunTenant.Of(http), id, ct);
        if (run is null) return Problems.RunNotFound(id);
        // The API reads forwards from the start unless told where (`after`) or asked for an earlier page (`before`).
        if (filter!.Before is null && filter.After is null) filter = filter with { After = 0 };
        var page = await logs.ReadAsync(run, filter, ct);
        return new LogPageJson(page);
    }

    private static async Task TextAsync(string id, HttpContext http, RunViews runs, LogStore logs, CancellationToken ct)
    {
        var (filter, errors) = LogFilter.Parse(http.Request.Query.ToPairs());
        // A limit the read would refuse keeps that refusal; the download refuses any other.
        var limit = http.Request.Query.ContainsKey("limit")
            ? new BadParameter("limit", "is not accepted here: the download holds every matching line (after and before bound it)")
            : null;
        if (BadParameter.InOrder(http.Request.Query.Keys, (errors ?? []).Append(limit)) is { } bad)
        {
            await Problems.BadParameters(bad).ExecuteAsync(http);
            return;
        }
        var run = await runs.GetAsync(RunTenant.Of(http), id, ct);
        if (run is null)
        {
            await Problems.RunNotFound(id).ExecuteAsync(http);
            return;
        }
        http.Response.ContentType = "text/plain; charset=utf-8";
        http.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = $"run-{run.Id}-logs.txt" }.ToString();
        var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(false), 64 * 1024);
        await using (writer)
        {
            await foreach (var line in logs.StreamAsync(run, filter!, ct))
            {
                await writer.WriteAsync(DbTime.ToDb(line.Time));
                await writer.WriteAsync(' ');
                await writer.WriteAsync(line.LevelWord);
                if (line.StepId is not null)
                {
                    await writer.WriteAsync(" [");
                    await writer.WriteAsync(line.StepId);
                    await writer.WriteAsync(']');
                }
                await writer.WriteAsync(' ');
                await WriteMessageAsync(writer, line.Message);
                if (line.Cut is { } bytes) await writer.WriteAsync($" [cut: {bytes:N0} bytes]");
                await writer.WriteAsync('\n');
            }
        }
    }

    /// A message as one entry of the text: its later lines indented (so none can pass for an entry of its own, with a
    /// time and a level of its choosing), other control characters written as `\xHH` (a terminal that shows the file
    /// runs no escape sequence of it).
    private static async Task WriteMessageAsync(TextWriter writer, string message)
    {
        var start = 0;
        for (var i = 0; i < message.Length; i++)
        {
            var c = message[i];
            if (c == '\t' || !char.IsControl(c)) continue;
            await writer.WriteAsync(message.AsMemory(start, i - start));
            if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < message.Length && message[i + 1] == '\n') i++;
                await writer.WriteAsync("\n    ");
            }
            else await writer.WriteAsync($"\\x{(int)c:X2}");
            start = i + 1;
        }
        await writer.WriteAsync(message.AsMemory(start));
    }

    /// `{items: [{seq, ts, level, step, message, fields, cut}], next, earlier, lines, dropped}`, written straight
    /// out: each line's `fields` is its stored JSON, not parsed and written again.
    private sealed class LogPageJson(LogPage page) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.ContentType = "application/json; charset=utf-8";
            await using var json = new Utf8JsonWriter(http.Response.Body);
            json.WriteStartObject();
            json.WriteStartArray("items");
            foreach (var line in page.Items)
            {
                json.WriteStartObject();
                json.WriteNumber("seq", line.Seq);
                json.WriteString("ts", DbTime.ToDb(line.Time));
                json.WriteString("level", line.LevelWord);
                json.WriteString("step", line.StepId);
                json.WriteString("message", line.Message);
                json.WritePropertyName("fields");
                if (line.Fields is null) json.WriteNullValue();
                else json.WriteRawValue(line.Fields, skipInputValidation: true);
                json.WriteBoolean("cut", line.Cut is not null);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            WriteCursor(json, "next", page.Next);
            WriteCursor(json, "earlier", page.Earlier);
            json.WriteNumber("lines", page.Counts.Lines);
            json.WriteNumber("dropped", page.Counts.Dropped);
            json.WriteEndObject();
            await json.FlushAsync();
        }

        private static void WriteCursor(Utf8JsonWriter json, string name, long? value)
        {
            if (value is { } v) json.WriteNumber(name, v);
            else json.WriteNull(name);
        }
    }
}
