using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.SavedViews;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/ui/runs/{id}`: the detail modal's fragment.
[AcceptsQuery(ListWalk.ListParameter, ListWalk.AtParameter, RunTenant.Parameter)]
public sealed class ModalModel(RunViews store, RunList list, TimeProvider time) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        var view = await store.GetModalViewAsync(RunTenant.Of(HttpContext), id, ct);
        if (view is null) return Fragments.RunNotFound();
        var (walk, error) = await ListWalk.ReadAsync(Request.Query.ToPairs(), HttpContext.Caller(), id, list, ct);
        if (error is not null) return Fragments.BadParameter(error);
        return Partial("_RunDetail", new RunDetailModel(view.Detail, time.GetUtcNow())
        {
            Steps = view.Steps, Walk = walk is null ? null : new RunWalkModel(walk, InModal: true),
        });
    }
}
