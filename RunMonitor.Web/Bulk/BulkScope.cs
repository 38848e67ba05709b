using System.Text.Json;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Bulk;

/// The runs page's side of a bulk operation: the list's filter as `POST /api/bulk` takes it.
public static class BulkScope
{
    /// `{"status": "failed", "workflow": …}`: the filter's criteria without its sort and page.
    public static string FilterJson(RunFilter filter)
    {
        var values = filter.RouteValues(includePaging: false);
        values.Remove("sort");
        values.Remove("limit");
        if (values.Remove("layer_name", out var workflow)) values["workflow"] = workflow;
        return JsonSerializer.Serialize(values);
    }
}
