using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/ui/runs/export.csv` and `/ui/runs/export.json`: every run matching the list's filters and sort
/// (no paging), streamed, up to a cap (`RunMonitor:Export:MaxRows`, default 10,000); the response says
/// when the cap cut it short (`X-Export-Truncated`, and `truncated` in the JSON).
public sealed class ExportModel(RunExport store, TimeProvider time, IConfiguration configuration) : PageModel
{
    public const int DefaultMaxRows = 10_000;

    /// The list's parameters that page it: an export has no pages.
    private static readonly string[] PageParameters = ["offset", "limit", "after", "before"];

    public int MaxRows => Math.Max(1, configuration.GetValue("RunMonitor:Export:MaxRows", DefaultMaxRows));

    public static readonly string[] CsvColumns =
    [
        "id", "tenant_id", "workflow_name", "name", "status", "dry_run", "created_at", "started_at", "completed_at",
        "duration_ms", "steps_completed", "steps_total", "targets_matched", "targets_processed", "targets_skipped",
        "insights_created", "model", "tokens_input", "tokens_output", "cost_usd", "cost_estimated", "retry_of", "error_message",
        "workflow_version", "trigger_type", "base_run_id", "error_code", "model_profile", "model_provider",
    ];

    public async Task<IActionResult> OnGetAsync(string format, CancellationToken ct)
    {
        // The route's pattern matches regardless of case (`export.CSV` too): the format is the one it names.
        format = format.ToLowerInvariant();
        // The paging parameters are refused here whatever their value, so their refusal comes before the list's.
        var paging = PageParameters.Where(Request.Query.ContainsKey)
            .Select(key => new BadParameter(key, $"is not accepted here: the export has no pages, it holds every matching run (up to {MaxRows:N0})"));
        // And an unknown one by what the export accepts: the list's own text names its paging among them.
        var unknown = Request.Query.Keys.Where(k => !RunFilter.Parameters.Contains(k))
            .Select(key => new BadParameter(key, $"is not an export parameter; accepted: {string.Join(", ", RunFilter.Parameters.Except(PageParameters).Order())}"));
        var (filter, errors) = RunFilter.Parse(Request.Query.ToPairs(), HttpContext.Caller());
        if (BadParameter.InOrder(Request.Query.Keys, paging.Concat(unknown).Concat(errors ?? [])) is { } bad) return Fragments.BadParameters(bad);

        var total = await store.CountAsync(filter!, ct);
        var truncated = total > MaxRows;
        var headers = Response.Headers;
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        headers.ContentDisposition = $"attachment; filename=\"runs-{stamp}.{format}\"";
        headers["X-Export-Total"] = total.ToString(CultureInfo.InvariantCulture);
        headers["X-Export-Cap"] = MaxRows.ToString(CultureInfo.InvariantCulture);
        headers["X-Export-Truncated"] = truncated ? "true" : "false";
        headers.CacheControl = "no-store";
        var rows = store.StreamAsync(filter!, MaxRows, ct);
        if (format == "csv")
        {
            Response.ContentType = "text/csv; charset=utf-8";
            await WriteCsvAsync(Response.Body, rows, ct);
        }
        else
        {
            Response.ContentType = "application/json; charset=utf-8";
            await WriteJsonAsync(Response.BodyWriter, rows, total, MaxRows, truncated, ct);
        }
        return new EmptyResult();
    }

    public static async Task WriteCsvAsync(Stream body, IAsyncEnumerable<RunRow> rows, CancellationToken ct)
    {
        await using var writer = new StreamWriter(body, new UTF8Encoding(false), 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteLineAsync(string.Join(',', CsvColumns));
        var n = 0;
        await foreach (var r in rows.WithCancellation(ct))
        {
            string?[] cells =
            [
                r.Id, r.TenantId, r.WorkflowName, r.Name, r.Status, r.IsDryRun ? "true" : "false", r.CreatedAt, r.StartedAt, r.CompletedAt,
                Num(r.DurationMs), Num(r.StepsCompleted), Num(r.StepsTotal), Num(r.TargetsMatched), Num(r.TargetsProcessed),
                Num(r.TargetsSkipped), Num(r.InsightsCreated), r.ModelName, Num(r.TokensInput), Num(r.TokensOutput),
                r.CostUsd?.ToString("0.######", CultureInfo.InvariantCulture), r.IsCostEstimated ? "true" : "false", r.RetryOf, r.ErrorMessage,
                r.WorkflowVersion, r.TriggerType, r.BaseRunId, r.ErrorCode, r.ModelProfile, r.ModelProvider,
            ];
            await writer.WriteLineAsync(string.Join(',', cells.Select(Csv.Cell)));
            if (++n % 500 == 0) await writer.FlushAsync(ct);
        }
    }

    private static string? Num(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    // Over the response's PipeWriter: the serializer's own flushes only hand buffers over, never block on the socket.
    public static async Task WriteJsonAsync(PipeWriter body, IAsyncEnumerable<RunRow> rows, long total, int cap, bool truncated, CancellationToken ct)
    {
        await using var json = new Utf8JsonWriter(body);
        json.WriteStartObject();
        json.WriteNumber("total", total);
        json.WriteNumber("cap", cap);
        json.WriteBoolean("truncated", truncated);
        json.WritePropertyName("items");
        json.WriteStartArray();
        var n = 0;
        await foreach (var r in rows.WithCancellation(ct))
        {
            JsonSerializer.Serialize(json, RunSummaryJson.From(r), JsonAnswer.Options);
            if (++n % 500 == 0) await body.FlushAsync(ct);
        }
        json.WriteEndArray();
        json.WriteNumber("exported", n);
        json.WriteEndObject();
        json.Flush();
        await body.FlushAsync(ct);
    }
}

/// RFC 4180 cells that a spreadsheet will not run as formulas.
public static class Csv
{
    // A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP "CSV injection").
    private static readonly char[] FormulaStarts = ['=', '+', '-', '@', '\t', '\r'];

    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (FormulaStarts.Contains(value[0])) value = "'" + value;
        var quote = value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || value[0] == ' ' || value[^1] == ' ';
        return quote ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
