using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Htmx;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.SavedViews;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/ui/runs` and its fragments: stats cards, the run table, the recent runs.
public sealed class IndexModel(RunList store, StatsStore statsStore, SavedViewStore views, TimeProvider time) : PageModel
{
    public RunFilter Filter { get; private set; } = new();
    public IReadOnlyList<BadParameter>? FilterErrors { get; private set; }
    public RunsTableModel? Table { get; private set; }
    public StatsCardsModel Stats { get; private set; } = null!;
    public IReadOnlyList<string> Workflows { get; private set; } = [];
    public IReadOnlyList<string> Tenants { get; private set; } = [];
    public SavedViewsModel SavedViews { get; private set; } = null!;
    public Caller Caller => HttpContext.Caller();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        // The cards' period lives in the page's address beside the list's view; a bad one is named above the cards.
        var (period, pairs, periodError) = StatsQuery.TakePeriod(Request.Query.ToPairs());
        var (filter, errors) = RunFilter.Parse(pairs, Caller);
        var now = time.GetUtcNow();
        Filter = filter ?? RunFilter.For(Caller);
        FilterErrors = errors;
        var shown = period ?? StatsPeriod.Default;
        Stats = new StatsCardsModel(await statsStore.StatsAsync(Filter.Tenant, shown, now, ct), shown, Filter.TenantChosen ? Filter.Tenant : null, now)
        {
            PageQuery = Filter.ToQueryString(), Error = periodError,
        };
        (Workflows, Tenants) = await store.FilterChoicesAsync(Filter.Tenant, withTenants: Caller.IsSuperAdmin, ct);
        SavedViews = new SavedViewsModel(await views.ListAsync(SavedViewRules.ScopeOf(Caller), ct), Filter.ToQueryString(includePaging: false).TrimStart('?'), SavedViewRules.CanWrite(Caller));
        if (filter is not null) Table = new RunsTableModel(await store.ListAsync(filter, ct), filter.SpansTenantsFor(Caller), now) { CanSelect = RunQueue.CanOperate(Caller), Period = period };
        if (filter is null || periodError is not null) Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    public async Task<IActionResult> OnGetListAsync(CancellationToken ct)
    {
        // The page's period comes along (the filter form holds it) and stays in the list's links; it is not required.
        var (period, pairs, periodError) = StatsQuery.TakePeriod(Request.Query.ToPairs());
        var (filter, errors) = RunFilter.Parse(pairs, Caller);
        if (BadParameter.InOrder(Request.Query.Keys, (errors ?? []).Append(periodError)) is { } bad) return Fragments.BadParameters(bad);
        var page = await store.ListAsync(filter!, ct);
        // The filter form's requests put the page's own URL in history; polls and links do not.
        if (Request.IsHtmx(out var hx) && hx!.Trigger == "run-filters")
            Response.Htmx(h => h.PushUrl(StatsQuery.WithPeriod(Url.Page("/Runs/Index", null)! + filter!.ToQueryString(), period)));
        return Partial("_RunsTable", new RunsTableModel(page, filter!.SpansTenantsFor(Caller), time.GetUtcNow()) { CanSelect = RunQueue.CanOperate(Caller), Period = period });
    }

    public async Task<IActionResult> OnGetStatsAsync(CancellationToken ct)
    {
        var (query, errors) = StatsQuery.Parse(Request.Query.ToPairs(), Caller, tenantAccepted: true);
        if (errors is not null) return Fragments.BadParameters(errors);
        var (period, tenant) = (query!.Period, query.Tenant);
        var now = time.GetUtcNow();
        var stats = await statsStore.StatsAsync(tenant, period, now, ct);
        return Partial("_StatsCards", new StatsCardsModel(stats, period, tenant == Caller.TenantId ? null : tenant, now));
    }

    public async Task<IActionResult> OnGetRecentAsync(CancellationToken ct)
    {
        if (Request.Query.Count > 0)
            return Fragments.BadParameter(new BadParameter(Request.Query.Keys.First(), "is not accepted; /ui/runs/recent takes no parameters"));
        var runs = await store.RecentAsync(Caller.TenantId, 5, ct);
        var shared = Caller.IsSuperAdmin ? await store.SharedIdsAsync(runs, ct) : new HashSet<string>();
        return Partial("_RecentRuns", new RecentRunsModel(runs, time.GetUtcNow(), shared));
    }
}
