using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Bulk;

/// The actions a bulk operation takes on each of its runs, each the single-run rule of `RunQueue`.
public static class BulkActions
{
    public const string Retry = "retry";
    public const string RetryFromFailedStep = "retryFromFailedStep";
    public const string Cancel = "cancel";

    public static readonly IReadOnlyList<string> All = [Retry, RetryFromFailedStep, Cancel];

    /// The verb a person reads before a count: the confirmation's title and button ("Cancel 3 runs?").
    public static string Label(string action) => action switch
    {
        Retry => "Retry",
        RetryFromFailedStep => "Retry from failed step",
        Cancel => "Cancel",
        _ => action,
    };

    /// The action's button in the bar, which a confirmation quotes: "Cancel" alone, beside a bar, read as dismissing it.
    public static string Button(string action) => action == Cancel ? "Cancel runs" : Label(action);

    /// The operation named as a thing (its progress, its page, its toasts): "Retry of 3 runs", "Retry of 3 runs from
    /// their failed steps", "Cancellation of 1 run" ("Cancel of 3 runs" read as a typo).
    public static string Of(string action, long runs)
    {
        var counted = $"{BulkRequestParser.Count(runs)} run{(runs == 1 ? "" : "s")}";
        return action switch
        {
            Cancel => $"Cancellation of {counted}",
            RetryFromFailedStep => $"Retry of {counted} from {(runs == 1 ? "its failed step" : "their failed steps")}",
            _ => $"{Label(action)} of {counted}",
        };
    }
}

public static class BulkStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Stopped = "stopped";
}

/// An item's state: `pending` until the batch that acts on its run commits.
public static class BulkItemState
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Skipped = "skipped";
    public const string Failed = "failed";
}

/// Which runs an operation is on: a list filter (the list's own parse) or up to `MaxIds` run ids, within `Tenant`
/// (null: every tenant, for a super admin who named none).
public sealed record BulkSelection(string Action, RunFilter? Filter, IReadOnlyList<string>? Ids, string? Tenant)
{
    public const int MaxIds = 1_000;

    /// The operation's tenant as stored: `*` for every tenant.
    public string Scope => Tenant ?? BulkStore.AllTenants;
}

public sealed record BulkOperationRow
{
    public long Id { get; init; }
    public string TenantId { get; init; } = "";
    public string Action { get; init; } = "";
    public string Status { get; init; } = BulkStatus.Running;
    public string? Filter { get; init; }
    public long Matched { get; init; }
    public long Eligible { get; init; }
    public long Done { get; init; }
    public long Succeeded { get; init; }
    public long Skipped { get; init; }
    public long Failed { get; init; }
    public string CreatedBy { get; init; } = "";
    public string CreatedAt { get; init; } = "";
    public string? CompletedAt { get; init; }

    public bool IsFinished => Status != BulkStatus.Running;

    /// How `Filter` begins for an operation on run ids (`ids=a,b,…`); any other is the list query of its filter.
    public const string IdsPrefix = "ids=";

    /// The runs list's query of the filter the operation acts on (its page links back to that list); null when it took
    /// run ids.
    public string? ListQuery => Filter is null || Filter.StartsWith(IdsPrefix, StringComparison.Ordinal) ? null : Filter;
}

/// One run of an operation: its state, why it was skipped or failed, and the run its retry made.
public record BulkItemRow
{
    public long Seq { get; init; }
    public string TenantId { get; init; } = "";
    public string RunId { get; init; } = "";
    public string State { get; init; } = BulkItemState.Pending;
    public string? Reason { get; init; }
    public string? NewRunId { get; init; }
}

/// A run an operation acts on, as its page lists it: the item (its outcome, and for a retry the run it made) with the
/// run's name, workflow and status now and the new run's status now; null where retention has deleted that run since.
public sealed record BulkItemView : BulkItemRow
{
    public string? RunName { get; init; }
    public string? WorkflowName { get; init; }
    public string? RunStatus { get; init; }
    public string? NewRunStatus { get; init; }

    public bool RunExists => WorkflowName is not null;
    public string DisplayName => string.IsNullOrWhiteSpace(RunName) ? WorkflowName ?? RunId : RunName!;
}

public sealed record BulkErrorJson(string RunId, string Reason);

/// `GET /api/bulk/{id}` (with `errors`) and each entry of `GET /api/bulk` (without).
public sealed record BulkOperationJson(long Id, string Action, string Status, string? Tenant, long Matched, long Eligible, long Done, long Succeeded,
    long Skipped, long Failed, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, IReadOnlyList<BulkErrorJson>? Errors)
{
    public static BulkOperationJson From(BulkOperationRow row, IReadOnlyList<BulkItemRow>? errors = null) => new(
        row.Id, row.Action, row.Status, row.TenantId == BulkStore.AllTenants ? null : row.TenantId, row.Matched, row.Eligible, row.Done,
        row.Succeeded, row.Skipped, row.Failed, row.CreatedBy, DbTime.Parse(row.CreatedAt), DbTime.FromDb(row.CompletedAt),
        errors?.Select(e => new BulkErrorJson(e.RunId, e.Reason ?? e.State)).ToList());
}
