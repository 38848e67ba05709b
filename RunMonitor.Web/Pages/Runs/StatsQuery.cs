using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// The stats parameters of `/ui/runs/stats` and `/api/admin/runs/stats`, validated in one place with the
/// same accepted values and messages; only the cards (`tenantAccepted`) may be scoped to a tenant.
public sealed record StatsQuery(StatsPeriod Period, string? Tenant)
{
    public static (StatsQuery? Query, BadParameter? Error) Parse(IReadOnlyDictionary<string, string?[]> query, Caller caller, bool tenantAccepted)
    {
        foreach (var key in query.Keys)
        {
            if (key != "period" && !(tenantAccepted && key == "tenant"))
                return Bad(key, $"is not a stats parameter; accepted: {(tenantAccepted ? "period, tenant" : "period")}");
        }
        // Absent means the default; given, it must be one of the periods (an empty value is not).
        var period = StatsPeriod.Default;
        if (query.TryGetValue("period", out var periods))
        {
            period = periods is [{ Length: > 0 } token] ? StatsPeriod.Parse(token) : null;
            if (period is null) return Bad("period", "accepts 24h, 7d or 30d (default 7d)");
        }
        var tenant = caller.TenantId;
        if (query.TryGetValue("tenant", out var tenants))
        {
            if (tenants.Length > 1) return Bad("tenant", "was given more than once; give it once");
            var (scoped, _, error) = RunFilter.ScopeTenant(tenants.FirstOrDefault(), caller);
            if (error is not null) return (null, error);
            tenant = scoped;
        }
        return (new StatsQuery(period, tenant), null);
    }

    private static (StatsQuery?, BadParameter?) Bad(string name, string message) => (null, new BadParameter(name, message));
}
