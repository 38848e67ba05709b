namespace RunMonitor.Web.Api;

/// The edge's adapter: a request's query as plain name/value pairs, so the domain's parsers know no HTTP.
public static class QueryPairs
{
    public static IReadOnlyDictionary<string, string?[]> ToPairs(this IQueryCollection query) =>
        query.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
}
