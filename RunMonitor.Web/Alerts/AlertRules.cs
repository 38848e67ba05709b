using System.Globalization;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Alerts;

public static class AlertKind
{
    public const string FailureRate = "failureRate";
    public const string StuckRuns = "stuckRuns";
    public const string QueueDepth = "queueDepth";
    public const string CostPerDay = "costPerDay";
    public const string Silence = "silence";

    public static readonly IReadOnlyList<string> All = [FailureRate, StuckRuns, QueueDepth, CostPerDay, Silence];
}

public static class AlertState
{
    public const string Ok = "ok";
    public const string Firing = "firing";
    public const string Resolved = "resolved";
}

/// One configured rule, `RunMonitor:Alerts:N:…`. `Window`: the look-back of failureRate and stuckRuns and silence's
/// dead-man period; `Threshold`: silence's is its window in minutes. `Tenant` null: over every tenant.
public sealed record AlertRule(string Name, string Kind, double Threshold, TimeSpan Window, string? Workflow, string? Tenant)
{
    /// At least this many finished runs in the window before a failure rate means anything.
    public const int MinimumFinished = 5;

    /// Whether a kind looks at a window of its own (`WindowMinutes`): a queue depth is the queue now, a cost per day
    /// the last 24 hours.
    public static bool TakesWindow(string kind) => kind is not (AlertKind.QueueDepth or AlertKind.CostPerDay);

    /// The window in minutes as `/api/alerts` reports it: null for a kind without one (`Window` is then unused).
    public double? WindowMinutes => TakesWindow(Kind) ? Window.TotalMinutes : null;

    /// True when the value reaches the threshold (a silence: nothing for its whole window, or never). Never on
    /// nothing: a threshold of 0 means "any at all" (a queued run, a failure, a cent), not "always".
    public bool Fires(double? value) => Kind switch
    {
        AlertKind.Silence => value is null || value >= Threshold,
        _ => value is { } v && v >= Threshold && v > 0,
    };
}

/// The rules and the evaluation interval, read and checked once at start-up: a rule that cannot mean anything stops
/// the app with a message naming its configuration key, as a bad API key does.
public sealed class AlertRuleSet
{
    public const string Section = "RunMonitor:Alerts";
    public const int DefaultIntervalSeconds = 30;

    public IReadOnlyList<AlertRule> Rules { get; }
    public TimeSpan Interval { get; }

    public AlertRuleSet(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var interval = DefaultIntervalSeconds;
        if (section["IntervalSeconds"] is { Length: > 0 } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out interval) || interval is < 1 or > 3600))
            throw new InvalidOperationException($"{Section}:IntervalSeconds must be a whole number of seconds from 1 to 3600 (default {DefaultIntervalSeconds}); it is '{text}'");
        Interval = TimeSpan.FromSeconds(interval);
        var rules = new List<AlertRule>();
        foreach (var child in section.GetChildren().Where(c => c.Key != "IntervalSeconds").OrderBy(c => int.TryParse(c.Key, out var n) ? n : int.MaxValue))
        {
            var where = $"{Section}:{child.Key}";
            if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                throw new InvalidOperationException($"{where} is not a setting of alerts: they are {Section}:IntervalSeconds and {Section}:N:Name|Kind|Threshold|WindowMinutes|Workflow|Tenant");
            var rule = Read(child, where);
            if (rules.Any(r => r.Name == rule.Name))
                throw new InvalidOperationException($"{where}:Name '{rule.Name}' names another rule too; each rule needs its own name");
            rules.Add(rule);
        }
        Rules = rules;
    }

    private static readonly string[] Fields = ["Name", "Kind", "Threshold", "WindowMinutes", "Workflow", "Tenant"];

    private static AlertRule Read(IConfigurationSection rule, string where)
    {
        foreach (var field in rule.GetChildren())
        {
            if (!Fields.Contains(field.Key, StringComparer.Ordinal))
                throw new InvalidOperationException($"{where}:{field.Key} is not a field of an alert rule; they are {string.Join(", ", Fields)}");
        }
        var name = rule["Name"];
        if (name is not { Length: > 0 and <= 100 } || name.Any(char.IsControl))
            throw new InvalidOperationException($"{where}:Name must be 1-100 characters");
        var kind = rule["Kind"] ?? "";
        if (!AlertKind.All.Contains(kind, StringComparer.Ordinal))
            throw new InvalidOperationException($"{where}:Kind must be one of {string.Join(", ", AlertKind.All)}; it is '{kind}'");
        var given = rule["Tenant"] is { Length: > 0 } t ? t : null;
        var tenant = RunFilter.TenantId(given);
        if (given is not null && tenant is null)
            throw new InvalidOperationException($"{where}:Tenant must be {RunFilter.TenantText}; it is '{given}'");
        var workflow = rule["Workflow"] is { Length: > 0 } w ? w : null;
        if (workflow is { Length: > 200 })
            throw new InvalidOperationException($"{where}:Workflow must be at most 200 characters");

        double? window = null;
        if (rule["WindowMinutes"] is { Length: > 0 } windowText)
        {
            if (!AlertRule.TakesWindow(kind))
                throw new InvalidOperationException($"{where}:WindowMinutes does not apply to {kind} ({(kind == AlertKind.QueueDepth ? "the queue now" : "the last 24 hours")}); remove it");
            if (!int.TryParse(windowText, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) || minutes is < 1 or > 43200)
                throw new InvalidOperationException($"{where}:WindowMinutes must be a whole number of minutes from 1 to 43200; it is '{windowText}'");
            window = minutes;
        }
        var windowMinutes = window ?? (kind == AlertKind.StuckRuns ? 30 : 60);

        double threshold;
        var thresholdText = rule["Threshold"];
        if (kind == AlertKind.Silence)
        {
            if (thresholdText is { Length: > 0 })
                throw new InvalidOperationException($"{where}:Threshold does not apply to silence, which fires after WindowMinutes without a run; remove it");
            threshold = windowMinutes;
        }
        else
        {
            if (thresholdText is not { Length: > 0 })
                throw new InvalidOperationException($"{where}:Threshold is required for {kind}");
            if (!double.TryParse(thresholdText, NumberStyles.Float, CultureInfo.InvariantCulture, out threshold) || !double.IsFinite(threshold))
                throw new InvalidOperationException($"{where}:Threshold must be a number; it is '{thresholdText}'");
            if (threshold < 0)
                throw new InvalidOperationException($"{where}:Threshold must not be negative; it is {thresholdText}");
            if (kind == AlertKind.FailureRate && threshold > 1)
                throw new InvalidOperationException($"{where}:Threshold of a failureRate is a fraction from 0 to 1 (0.2 for 20%); it is {thresholdText}");
            if (kind is AlertKind.StuckRuns or AlertKind.QueueDepth && threshold != Math.Floor(threshold))
                throw new InvalidOperationException($"{where}:Threshold of {kind} is a count of runs; it is {thresholdText}");
        }
        return new AlertRule(name, kind, threshold, TimeSpan.FromMinutes(windowMinutes), workflow, tenant);
    }
}
