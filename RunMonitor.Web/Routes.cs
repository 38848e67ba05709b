namespace RunMonitor.Web;

/// Every URL of SPEC, named once. `Map*` calls and links use these constants; a Razor `@page` directive takes a
/// string literal only, so each page spells its route there and `RoutesTests` holds it equal to `Pages`. `All` is
/// the whole table (method, pattern, page handler): the tests walk it, and check the app serves exactly it.
public static class Routes
{
    // The HTML pages and their fragments.
    public const string Home = "/";
    public const string Login = "/login";
    public const string Logout = "/logout";
    public const string Admin = "/admin";
    public const string Runs = "/ui/runs";
    public const string RunsWithFragment = "/ui/runs/{handler:regex(^(stats|list|recent)$)?}";
    public const string RunsExport = "/ui/runs/export.{format:regex(^(csv|json)$)}";
    public const string RunModal = "/ui/runs/{id}";
    public const string RunSteps = "/ui/runs/{id}/steps/{stepId?}";
    public const string RunControl = "/ui/runs/{id}/{handler:regex(^(retry|cancel|live|actions)$)}";
    public const string RunEvents = "/ui/runs/{id}/events";
    public const string RunPage = "/runs/{id}";
    public const string RunLogs = "/ui/runs/{id}/logs";
    public const string Workers = "/ui/workers";
    public const string WorkersWithFragment = "/ui/workers/{handler:regex(^(list)$)?}";
    public const string AlertsBanner = "/ui/alerts/banner";

    // The JSON API.
    public const string ApiRuns = "/api/runs";
    public const string ApiRun = "/api/runs/{id}";
    public const string ApiRunSteps = "/api/runs/{id}/steps";
    public const string ApiRunStep = "/api/runs/{id}/steps/{stepId}";
    public const string ApiRunRetry = "/api/runs/{id}/retry";
    public const string ApiRunPayload = "/api/runs/{id}/payload/{field}";
    public const string ApiStepPayload = "/api/runs/{id}/steps/{stepId}/payload/{field}";
    public const string ApiStepArtifacts = "/api/runs/{id}/steps/{stepId}/artifacts";
    public const string ApiArtifact = "/api/artifacts/{artifactId}";
    public const string ApiQueueClaim = "/api/queue/claim";
    public const string ApiAdminRunsStats = "/api/admin/runs/stats";
    public const string ApiAdminKeys = "/api/admin/keys";
    public const string ApiAdminKey = "/api/admin/keys/{id}";
    public const string ApiRunActivity = "/api/runs/{id}/activity";
    public const string ApiBulk = "/api/bulk";
    public const string ApiBulkOperation = "/api/bulk/{operationId}";
    public const string BulkProgress = "/ui/bulk/{operationId}";
    public const string BulkPage = "/bulk/{operationId?}";
    public const string ApiRunLogs = "/api/runs/{id}/logs";
    public const string ApiRunLogsText = "/api/runs/{id}/logs.txt";
    public const string ApiStepLogs = "/api/runs/{id}/steps/{stepId}/logs";
    public const string ApiIngest = "/api/ingest";
    public const string ApiViews = "/api/views";
    public const string ApiView = "/api/views/{id}";
    public const string ApiWorkers = "/api/workers";
    public const string ApiWorkerHeartbeat = "/api/workers/{name}/heartbeat";
    public const string ApiAlerts = "/api/alerts";

    // The runs page's saved-view forms (cookie sign-in, antiforgery field, no JavaScript needed).
    public const string ViewsSave = "/ui/views";
    public const string ViewsDelete = "/ui/views/{id}/delete";

    /// The runs page showing the list a query string (without `?`) selects.
    public static string RunsFor(string query) => query.Length == 0 ? Runs : Runs + "?" + query;

    /// Each Razor page (by its name, as `Url.Page` takes it) and the route its `@page` directive must spell.
    public static readonly IReadOnlyDictionary<string, string> Pages = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["/Login"] = Login,
        ["/Admin/Index"] = Admin,
        ["/Runs/Index"] = RunsWithFragment,
        ["/Runs/Export"] = RunsExport,
        ["/Runs/Modal"] = RunModal,
        ["/Runs/Steps"] = RunSteps,
        ["/Runs/Control"] = RunControl,
        ["/Runs/Detail"] = RunPage,
        ["/Bulk/Index"] = BulkPage,
        ["/Runs/Logs"] = RunLogs,
        ["/Workers/Index"] = WorkersWithFragment,
        ["/Alerts/Banner"] = AlertsBanner,
    };

    /// One method of one route; `Handler` names the page handler (`?handler=` or the `{handler}` segment) it runs.
    public sealed record Endpoint(string Method, string Pattern, string? Handler = null);

    public static readonly IReadOnlyList<Endpoint> All =
    [
        new("GET", Home),
        new("GET", Login), new("POST", Login),
        new("POST", Logout),
        new("GET", Admin), new("POST", Admin, "Revoke"),
        new("GET", RunsWithFragment), new("GET", RunsWithFragment, "List"), new("GET", RunsWithFragment, "Stats"), new("GET", RunsWithFragment, "Recent"),
        new("GET", RunsExport),
        new("GET", RunModal),
        new("GET", RunSteps),
        new("POST", RunControl, "Retry"), new("POST", RunControl, "Cancel"), new("GET", RunControl, "Actions"), new("GET", RunControl, "Live"),
        new("GET", RunEvents),
        new("GET", RunPage),
        new("GET", ApiRuns), new("POST", ApiRuns),
        new("GET", ApiRun), new("PATCH", ApiRun), new("DELETE", ApiRun),
        new("GET", ApiRunSteps),
        new("PUT", ApiRunStep),
        new("POST", ApiRunRetry),
        new("GET", ApiRunPayload),
        new("GET", ApiStepPayload),
        new("POST", ApiStepArtifacts), new("GET", ApiStepArtifacts),
        new("GET", ApiArtifact),
        new("POST", ApiQueueClaim),
        new("GET", ApiAdminRunsStats),
        new("GET", ApiAdminKeys),
        new("DELETE", ApiAdminKey),
        new("GET", RunLogs),
        new("POST", ApiRunLogs), new("GET", ApiRunLogs),
        new("GET", ApiRunLogsText),
        new("POST", ApiStepLogs),
        new("POST", ApiIngest),
        new("GET", ApiViews), new("POST", ApiViews),
        new("DELETE", ApiView),
        new("POST", ViewsSave),
        new("POST", ViewsDelete),
        new("GET", ApiRunActivity),
        new("POST", ApiBulk), new("GET", ApiBulk),
        new("GET", ApiBulkOperation), new("DELETE", ApiBulkOperation),
        new("GET", BulkProgress),
        new("GET", BulkPage), new("POST", BulkPage),
        new("GET", WorkersWithFragment), new("GET", WorkersWithFragment, "List"),
        new("GET", AlertsBanner),
        new("POST", ApiWorkerHeartbeat), new("GET", ApiWorkers),
        new("GET", ApiAlerts),
    ];

    /// A concrete URL: the pattern with each `{name}` (constraints and `?` included) replaced by its value,
    /// escaped. For the API's links (`Location`, payload and artifact URLs), where routing is not at hand.
    public static string Path(string pattern, params (string Name, string Value)[] values)
    {
        var path = pattern;
        foreach (var (name, value) in values)
        {
            var start = path.IndexOf("{" + name, StringComparison.Ordinal);
            if (start < 0) throw new ArgumentException($"{pattern} has no parameter {name}", nameof(values));
            var end = path.IndexOf('}', start);
            path = path[..start] + Uri.EscapeDataString(value) + path[(end + 1)..];
        }
        return path;
    }
}

/// `MapGet` that answers HEAD as well, as RFC 9110 asks of a server that serves GET (the pages do, by Razor Pages): the
/// same handler, its status and headers; Kestrel sends no body for a HEAD. The event stream stays GET alone.
public static class ReadEndpoints
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    public static RouteHandlerBuilder MapRead(this IEndpointRouteBuilder app, string pattern, Delegate handler) =>
        app.MapMethods(pattern, GetAndHead, handler);
}
