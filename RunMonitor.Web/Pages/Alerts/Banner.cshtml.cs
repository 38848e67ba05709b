using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Alerts;

/// `/ui/alerts/banner`: the fragment every page polls; empty while no rule of the caller's tenant fires.
[Authorize(Policy = Policies.RequireRead)]
public sealed class BannerModel(AlertEvaluator alerts) : PageModel
{
    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Request.Query.Count > 0)
            return Fragments.BadParameter(new RunMonitor.Web.Runs.BadParameter(Request.Query.Keys.First(), "is not a parameter of the alert banner; it takes none"));
        return Partial("_AlertBanner", await AlertBannerModel.ForAsync(alerts, HttpContext, ct));
    }
}
