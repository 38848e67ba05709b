using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// The stats parameters of `/ui/runs/stats` and `/api/admin/runs/stats`, validated in one place with the
/// same accepted values and messages; only the cards (`tenantAccepted`) may be scoped to a tenant. The runs page and
/// its list read `period` too (`TakePeriod`), as the cards' period kept in the page's address.
public sealed record StatsQuery(StatsPeriod Period, string? Tenant)
{
    /// The query, or every bad parameter of it in the query's order.
    public static (StatsQuery? Query, IReadOnlyList<BadParameter>? Errors) Parse(IReadOnlyDictionary<string, string?[]> query, Caller caller, bool tenantAccepted)
    {
        var bad = new BadParameters(query.Keys);
        foreach (var key in query.Keys)
        {
            if (key != "period" && !(tenantAccepted && key == "tenant"))
                bad.Add(key, $"is not a stats parameter; accepted: {(tenantAccepted ? "period, tenant" : "period")}");
        }
        var (period, periodError) = ParsePeriod(query);
        bad.Add(periodError);
        var tenant = caller.TenantId;
        if (!bad.Holds("tenant") && query.TryGetValue("tenant", out var tenants))
        {
            if (tenants.Length > 1) bad.Add("tenant", "was given more than once; give it once");
            else
            {
                var (scoped, _, error) = RunFilter.ScopeTenant(tenants.FirstOrDefault(), caller);
                bad.Add(error);
                tenant = scoped;
            }
        }
        return bad.All is { } errors ? (null, errors) : (new StatsQuery(period!, tenant), null);
    }

    /// Absent means the default; given, it must be one of the periods, once (an empty value is not).
    public static (StatsPeriod? Period, BadParameter? Error) ParsePeriod(IReadOnlyDictionary<string, string?[]> query)
    {
        if (!query.TryGetValue("period", out var periods)) return (StatsPeriod.Default, null);
        var period = periods is [{ Length: > 0 } token] ? StatsPeriod.Parse(token) : null;
        return period is null ? (null, new BadParameter("period", "accepts 24h, 7d or 30d (default 7d)")) : (period, null);
    }

    /// The runs page's query (the page's, or its list fragment's): the cards' period taken out, the rest the list's, for
    /// `RunFilter`, which `/api/runs`, the exports and the saved views share and where a period means nothing.
    public static (StatsPeriod? Period, IReadOnlyDictionary<string, string?[]> List, BadParameter? Error) TakePeriod(IReadOnlyDictionary<string, string?[]> query)
    {
        var (period, error) = ParsePeriod(query);
        var list = query.ContainsKey("period")
            ? query.Where(p => p.Key != "period").ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)
            : query;
        return (period, list, error);
    }

    /// The period as the page's address writes it: null for the default, which it leaves out.
    public static StatsPeriod? NonDefault(StatsPeriod? period) => period == StatsPeriod.Default ? null : period;

    /// A runs page (or list) address with the period after its query.
    public static string WithPeriod(string url, StatsPeriod? period) =>
        NonDefault(period) is { } p ? url + (url.Contains('?') ? "&" : "?") + "period=" + p.Token : url;
}
