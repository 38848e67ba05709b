using RunMonitor.Web.Alerts;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages;

/// The firing rules a caller sees, each with the runs list that shows what fires.
public sealed record AlertBannerModel(IReadOnlyList<(AlertRuleStatus Status, string Link)> Firing)
{
    public static async Task<AlertBannerModel> ForAsync(AlertEvaluator alerts, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (http.User.Identity?.IsAuthenticated != true) return new([]);
        var firing = await alerts.FiringAsync(caller, ct);
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        return new(firing.Select(s => (s, Routes.RunsFor(QueryFor(s.Rule, caller.IsSuperAdmin, now)))).ToList());
    }

    /// The list filter that shows a rule's runs: its failures, stuck or queued runs, or its workflow's runs; bounded by
    /// the rule's window at `now` where it counts runs in one. A failure rate counts the runs created since the window
    /// began (`from`); a stuck run was created before it began (`to`; a `from` would show every run but the stuck
    /// ones); a cost per day adds up the runs created since the hour (a workflow's: the UTC day) 24 hours back (`from`).
    /// A queue is counted now, and a silence is the absence of runs: their lists are not bounded, so a silence's shows
    /// the workflow's last run on top.
    public static string QueryFor(AlertRule rule, bool superAdmin, DateTimeOffset now)
    {
        var query = new List<KeyValuePair<string, string?>>();
        if (superAdmin && rule.Tenant is not null) query.Add(new("tenant", rule.Tenant));
        if (rule.Workflow is not null) query.Add(new("workflow", rule.Workflow));
        var status = rule.Kind switch
        {
            AlertKind.FailureRate => "failed",
            AlertKind.StuckRuns => "running",
            AlertKind.QueueDepth => "queued",
            _ => null,
        };
        if (status is not null) query.Add(new("status", status));
        (string Name, DateTimeOffset At)? bound = rule.Kind switch
        {
            AlertKind.FailureRate => ("from", now - rule.Window),
            AlertKind.StuckRuns => ("to", now - rule.Window),
            AlertKind.CostPerDay => ("from", AlertStore.CostSince(rule, now)),
            _ => null,
        };
        if (bound is { } b) query.Add(new(b.Name, b.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        return Microsoft.AspNetCore.Http.QueryString.Create(query).ToString().TrimStart('?');
    }

    public static string Describe(AlertRuleStatus s)
    {
        var threshold = Amount(s.Rule.Kind, s.Rule.Threshold);
        return s.Rule.Kind switch
        {
            // The window named: the rate of the last hour beside the stats card's of seven days read as a contradiction.
            AlertKind.FailureRate => $"failure rate {Percent(s.Value)} over the last {Minutes(s.Rule.Window.TotalMinutes)} (threshold {threshold})",
            AlertKind.StuckRuns => $"{Runs(s.Value)} running longer than {Minutes(s.Rule.Window.TotalMinutes)} (threshold {threshold})",
            AlertKind.QueueDepth => $"{Runs(s.Value)} queued (threshold {threshold})",
            AlertKind.CostPerDay when s.Rule.Workflow is not null => $"{Usd(s.Value)} since yesterday 00:00 UTC (threshold {threshold})",
            AlertKind.CostPerDay => $"{Usd(s.Value)} in the last 24 hours (threshold {threshold})",
            _ => s.Value switch
            {
                null => "no run ever reported",
                < 1 => $"a run within the last minute (threshold {threshold})",
                var v => $"no run for {Minutes(v.Value)} (threshold {threshold})",
            },
        };
    }

    /// A rule's value or threshold as its kind reads: a failure rate in per cent, a count of runs, dollars, minutes. An
    /// event of a rule no longer configured (kind unknown) shows its number as stored.
    public static string Amount(string? kind, double? value) => kind switch
    {
        AlertKind.FailureRate => Percent(value),
        AlertKind.StuckRuns or AlertKind.QueueDepth => Count(value),
        AlertKind.CostPerDay => Usd(value),
        AlertKind.Silence => value is { } v ? Minutes(v) : "—",
        _ => value?.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) ?? "—",
    };

    private static string Percent(double? v) => v is { } x ? (x * 100).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "%" : "—";
    private static string Runs(double? v) => Count(v) + (v is 1 ? " run" : " runs");
    private static string Count(double? v) => v is { } x ? ((long)x).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "—";
    private static string Usd(double? v) => v is { } x ? "$" + x.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "—";
    // A silence's window: minutes below an hour, else hours and minutes (`25h`, `1h 30m`; "1,500 min" read as a count).
    private static string Minutes(double v) => (long)v is var m && m < 60 ? $"{m} min" : $"{m / 60:N0}h" + (m % 60 == 0 ? "" : $" {m % 60}m");
}
