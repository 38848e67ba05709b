namespace RunMonitor.Web.Runs;

/// Run and step statuses as stored (lower-case words), with the transition rules SPEC gives.
public static class RunStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Partial = "partial";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Dry = "dry";

    public static readonly IReadOnlyList<string> All = [Queued, Running, Completed, Partial, Failed, Cancelled, Dry];
    public static readonly IReadOnlyList<string> Terminal = [Completed, Partial, Failed, Cancelled, Dry];
    public static readonly IReadOnlyList<string> Active = [Queued, Running];
    /// The endings a run's error explains, which the run table shows it beside (a lease that ran out ends its run
    /// failed, or cancelled, with one).
    public static readonly IReadOnlyList<string> Unsuccessful = [Partial, Failed, Cancelled];

    /// Accepts every status word plus `success`, the story's name for `completed`.
    public static string? Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var word = value.Trim().ToLowerInvariant();
        if (word == "success") return Completed;
        return All.Contains(word) ? word : null;
    }

    public static bool IsTerminal(string status) => Terminal.Contains(status);

    public static bool IsActive(string status) => Active.Contains(status);

    /// Null when the move is allowed; otherwise the reason it is refused (answered 409).
    public static string? RefuseTransition(string from, string to)
    {
        if (from == to) return null;
        if (IsTerminal(from)) return $"run is {from}; a finished run cannot become {to}";
        if (from == Running && to == Queued) return "a running run cannot go back to queued";
        return null;
    }

    public const string AcceptedWords = "queued, running, completed (or success), partial, failed, cancelled, dry";
}

public static class StepStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, Running, Completed, Failed, Skipped, Cancelled];

    public static string? Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var word = value.Trim().ToLowerInvariant();
        if (word == "success") return Completed;
        return All.Contains(word) ? word : null;
    }

    public const string AcceptedWords = "pending, running, completed (or success), failed, skipped, cancelled";
}
