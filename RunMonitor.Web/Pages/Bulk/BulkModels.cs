using RunMonitor.Web.Bulk;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages.Bulk;

/// `/bulk`: the tenant's latest operations (a super admin's: every tenant's, each named).
public sealed record BulkOperationsModel(IReadOnlyList<BulkOperationRow> Operations, bool ShowTenant, DateTimeOffset Now);

/// An operation's page of its runs: each run's outcome and, for a retry, the run it made. `List`: the runs list the
/// page was reached from, kept by its pages' links; `LinkTenant`: a super admin's links name each run's tenant.
public sealed record BulkItemsModel(BulkOperationRow Operation, IReadOnlyList<BulkItemView> Items, long Offset, string? List, bool LinkTenant,
    DateTimeOffset Now)
{
    public long Total => Operation.Eligible;
    public bool ShowTenant => Operation.TenantId == BulkStore.AllTenants;
    public bool HasPrevious => Offset > 0 && Total > 0;
    public bool HasNext => Offset + Items.Count < Total && Items.Count > 0;
    public long PreviousOffset => Math.Max(0, Math.Min(Offset, Total) - BulkStore.ItemsPageSize);
    public long NextOffset => Offset + BulkStore.ItemsPageSize;
    public string Range => $"{Format.Count(Offset + 1)}-{Format.Count(Offset + Items.Count)} of {Format.Count(Total)}";
}
