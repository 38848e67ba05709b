using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Admin;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Admin;

/// `/admin`: every tenant's health over the last 7 or 30 calendar days (`?days=`; `StatsPeriod` 7d or 30d).
[Authorize(Policy = Policies.RequireAdmin)]
[AcceptsQuery("id", Handler = "revoke")]
[AcceptsForm(Handler = "revoke")]
public sealed class IndexModel(AdminStore admin, RunPurger purger, PriceTable prices, ApiKeyStore keys, AlertEvaluator alerts,
    TimeProvider time) : PageModel
{
    public static readonly IReadOnlyList<int> Windows = [7, 30];

    /// A rule's state or an event's, as a badge: firing in the failed colour, anything else (ok, resolved) in the completed.
    public static string AlertBadge(string state) => state == AlertState.Firing ? "badge-failed" : "badge-completed";

    public int Days { get; private set; } = 7;
    /// The stats' one window (the runs page's cards and the API count the same days).
    public StatsPeriod Period => StatsPeriod.Parse($"{Days}d")!;
    public DateTimeOffset Now { get; private set; }
    public AdminStats Stats { get; private set; } = new();
    public RunsChartModel Chart { get; private set; } = null!;
    public IReadOnlyList<WorkflowFailures> TopFailing { get; private set; } = [];
    public IReadOnlyList<SkillDuration> SlowestSkills { get; private set; } = [];
    public IReadOnlyList<TenantModelUsage> Usage { get; private set; } = [];
    public IReadOnlyDictionary<string, ModelPrice> Prices => prices.Prices;
    public PurgeRecord? LastPurge { get; private set; }
    public int RetentionDays => purger.RetentionDays;
    public IReadOnlyList<ApiKey> Keys { get; private set; } = [];
    public IReadOnlyList<AlertRuleStatus> AlertRules { get; private set; } = [];
    public IReadOnlyList<AlertEventRow> AlertEvents { get; private set; } = [];
    [TempData] public string? Notice { get; set; }
    public IReadOnlyList<BadParameter>? Errors { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        // Bad parameters are named above the page, which shows its default window (as /ui/runs shows its list's errors).
        var bad = new BadParameters(Request.Query.Keys);
        foreach (var unknown in Request.Query.Keys.Where(k => k != "days")) bad.Add(unknown, "is not an admin parameter; accepted: days");
        if (Request.Query["days"].ToString() is { Length: > 0 } text)
        {
            if (int.TryParse(text, out var days) && Windows.Contains(days)) Days = days;
            else bad.Add("days", "accepts 7 or 30 (default 7)");
        }
        Errors = bad.All;
        if (Errors is not null) Response.StatusCode = StatusCodes.Status400BadRequest;
        Now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(Now.UtcDateTime);
        var since = Period.Since(Now);
        Stats = await admin.StatsAsync(since, ct);
        Chart = RunsChartModel.From(await admin.RunsPerDayAsync(since, ct), today, Days);
        TopFailing = await admin.TopFailingAsync(since, 10, ct);
        SlowestSkills = await admin.SlowestSkillsAsync(since, 10, ct);
        Usage = await admin.UsageAsync(since, ct);
        LastPurge = await purger.LastAsync(ct);
        Keys = await keys.ListAsync(ct);
        AlertRules = await alerts.StatusAsync(null, ct);
        AlertEvents = (await alerts.EventsAsync(null, ct)).Take(20).ToList();
        return Page();
    }

    /// Revokes a stored key (a plain form POST with its antiforgery field; works without JavaScript).
    public async Task<IActionResult> OnPostRevokeAsync(string id, CancellationToken ct)
    {
        if (!await keys.RevokeAsync(id, ct))
            return Fragments.Html(StatusCodes.Status404NotFound, "<p>Key not found</p>");
        Notice = $"Key {id} revoked.";
        return RedirectToPage("/Admin/Index", null, "api-keys");
    }
}
