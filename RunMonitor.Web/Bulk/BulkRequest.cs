using System.Globalization;
using System.Text.Json;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Bulk;

/// `POST /api/bulk`'s body, read: the selection, whether it is a dry run, the count the caller expects.
public sealed record BulkRequest(BulkSelection Selection, bool DryRun, long? ExpectedCount, string? FilterText);

/// Reads `{action, filter? | ids?, dryRun?, expectedCount?}`. A filter goes through the list's own parse (the same 400
/// text as the list for a value it refuses); paging has no meaning for an operation on every matching run.
public static class BulkRequestParser
{
    /// The list parameters a bulk filter takes (`layer_name` is the list's other name for `workflow`).
    public static readonly IReadOnlySet<string> FilterParameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "status", "workflow", "layer_name", "q", "from", "to", "tenant",
    };

    public static (BulkRequest? Request, IResult? Problem) Parse(JsonElement root, Caller caller)
    {
        var errors = new Dictionary<string, List<string>>();
        var body = JsonBody.Object(root, errors, known: ["filter"]);
        if (body is null) return (null, Problems.Validation(errors));
        var action = body.String("action", 40, required: true);
        if (action is not null && !BulkActions.All.Contains(action))
            body.Fail("action", $"must be one of {string.Join(", ", BulkActions.All)}");
        var hasFilter = root.TryGetProperty("filter", out var filterElement) && filterElement.ValueKind != JsonValueKind.Null;
        var ids = body.Strings("ids", BulkSelection.MaxIds, 200);
        var tenantGiven = body.String("tenant", 64);
        var dryRun = body.Bool("dryRun") ?? false;
        var expected = body.Count("expectedCount");
        // A field given twice too: the later value won before (`"dryRun": true, …, "dryRun": false` started the operation).
        body.RejectUnknown("a bulk request takes action, filter or ids (with tenant), dryRun and expectedCount");
        var idsGiven = root.TryGetProperty("ids", out var idsElement) && idsElement.ValueKind != JsonValueKind.Null;
        if (hasFilter == idsGiven)
            body.Fail(hasFilter ? "ids" : "filter", "give exactly one of filter (the list's parameters) and ids (at most 1,000 run ids)");
        if (idsGiven && ids is { Count: 0 }) body.Fail("ids", "must name at least one run id");
        if (ids is not null && BadRunId(ids) is { } bad) body.Fail("ids", bad.Message);
        // Run ids are unique within a tenant only: a super admin says whose runs the ids are (SPEC: "a super admin may name tenant").
        var (tenant, _, tenantError) = RunFilter.ScopeTenant(tenantGiven, caller);
        if (tenantError is not null) body.Fail("tenant", tenantError.Message);
        else if (tenantGiven is not null && string.IsNullOrWhiteSpace(tenantGiven)) body.Fail("tenant", $"accepts a tenant id: {RunFilter.TenantText}");
        else if (tenantGiven is not null && hasFilter) body.Fail("tenant", "goes inside filter with the list's other parameters");
        if (!dryRun && expected is null && !errors.ContainsKey("expectedCount"))
            body.Fail("expectedCount", "is required unless dryRun is true: the number of eligible runs a dry run counted");
        if (dryRun && expected is not null)
            body.Fail("expectedCount", "is for starting the operation; a dry run only counts (leave it out, or set dryRun to false)");
        if (errors.Count > 0) return (null, Problems.Validation(errors));

        if (hasFilter)
        {
            var (pairs, pairError) = FilterPairs(filterElement);
            if (pairError is not null) return (null, Problems.BadParameter(InFilter(pairError)));
            var (filter, filterErrors) = RunFilter.Parse(pairs!, caller);
            if (filterErrors is not null) return (null, Problems.BadParameters(filterErrors.Select(InFilter).ToList()));
            var text = filter!.ToQueryString(includePaging: false).TrimStart('?');
            return (new BulkRequest(new BulkSelection(action!, filter, null, filter.Tenant), dryRun, expected, text), null);
        }
        return (new BulkRequest(new BulkSelection(action!, null, ids, tenant), dryRun, expected, null), null);
    }

    /// A refusal of a filter's parameter, named by its path in the body (`filter.status`).
    private static BadParameter InFilter(BadParameter error) => error.Name == "filter" ? error : error with { Name = "filter." + error.Name };

    /// The 400 naming `ids` when one of them is no run id (it matched no run, silently: `"a b"`); null when each is one.
    public static BadParameter? BadRunId(IReadOnlyList<string> ids)
    {
        for (var i = 0; i < ids.Count; i++)
            if (!IngestParser.IdPattern().IsMatch(ids[i]))
                return new BadParameter("ids", $"holds no run id at item {i + 1}: a run id is {IngestParser.IdText}");
        return null;
    }

    /// The filter object as the list's name/value pairs: strings (a number as its digits), `status` also an array; each
    /// parameter once, and not null (leave a parameter out to not filter by it).
    public static (IReadOnlyDictionary<string, string?[]>? Pairs, BadParameter? Error) FilterPairs(JsonElement filter)
    {
        if (filter.ValueKind != JsonValueKind.Object)
            return (null, new BadParameter("filter", "must be a JSON object of the list's parameters: " + string.Join(", ", FilterParameters.Order())));
        var pairs = new Dictionary<string, string?[]>(StringComparer.Ordinal);
        foreach (var property in filter.EnumerateObject())
        {
            if (!FilterParameters.Contains(property.Name))
                return (null, RunFilter.Parameters.Contains(property.Name)
                    ? new BadParameter(property.Name, "is not a bulk filter parameter: an operation acts on every run the filter matches, in no order")
                    : new BadParameter(property.Name, $"is not a list parameter; accepted: {string.Join(", ", RunFilter.Parameters.Order())}"));
            // A parameter given twice, or as null, would widen the selection without a word (the later value won; a null
            // status matched every run): an operation on many runs takes each parameter once, with a value.
            if (pairs.ContainsKey(property.Name)) return (null, new BadParameter(property.Name, "is given more than once; give it once"));
            var value = property.Value;
            switch (value.ValueKind)
            {
                case JsonValueKind.String: pairs[property.Name] = [value.GetString()]; break;
                case JsonValueKind.Number: pairs[property.Name] = [value.GetRawText()]; break;
                case JsonValueKind.Array when property.Name == "status" && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                    pairs[property.Name] = value.EnumerateArray().Select(v => v.GetString()).ToArray();
                    break;
                default:
                    return (null, new BadParameter(property.Name, property.Name == "status"
                        ? "accepts a string (comma-separated statuses) or an array of them"
                        : "accepts a string"));
            }
            // An empty value filters nothing (the list drops blank parts), so it too would select every run.
            if (pairs[property.Name].All(v => string.IsNullOrWhiteSpace(property.Name == "status" ? v?.Replace(',', ' ') : v)))
                return (null, new BadParameter(property.Name, "is empty; give it a value, or leave it out to not filter by it"));
        }
        return (pairs, null);
    }

    /// A count as the UI writes it: `12,345`.
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
