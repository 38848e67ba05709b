using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Workers;

/// The workers list as a partial's model: the workers and the time they are shown at; `Tenants`: a column for them.
public sealed record WorkersListModel(IReadOnlyList<WorkerView> Workers, DateTimeOffset Now, bool Tenants);

/// `/ui/workers` and its polled fragment `/ui/workers/list` (SPEC "Workers").
[Authorize(Policy = Policies.RequireRead)]
public sealed class IndexModel(WorkerBook workers, TimeProvider time) : PageModel
{
    public WorkersListModel List { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var (tenant, errors) = TenantQuery.Parse(HttpContext);
        if (errors is not null) return Fragments.BadParameters(errors);
        List = await ReadAsync(tenant, ct);
        return Page();
    }

    public async Task<IActionResult> OnGetListAsync(CancellationToken ct)
    {
        var (tenant, errors) = TenantQuery.Parse(HttpContext);
        if (errors is not null) return Fragments.BadParameters(errors);
        return Partial("_WorkersList", await ReadAsync(tenant, ct));
    }

    private async Task<WorkersListModel> ReadAsync(string? tenant, CancellationToken ct) =>
        new(await workers.ListAsync(tenant, ct), time.GetUtcNow(), tenant is null);
}
