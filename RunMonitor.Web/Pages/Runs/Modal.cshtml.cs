using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// `/ui/runs/{id}`: the detail modal's fragment.
public sealed class ModalModel(RunViews store, TimeProvider time) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        var view = await store.GetModalViewAsync(RunTenant.Of(HttpContext), id, ct);
        if (view is null) return Fragments.RunNotFound();
        return Partial("_RunDetail", new RunDetailModel(view.Detail, time.GetUtcNow()) { Steps = view.Steps });
    }
}
