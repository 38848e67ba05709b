using System.Globalization;
using System.Text.RegularExpressions;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Runs;

public enum RunSort { Created, Status, Duration }

/// The run list's filters, sort and page: parsed from plain name/value pairs (the edge turns a query into
/// them) and validated in one place for the page, the fragment, the export and the JSON API, and turned
/// back into a query string for links.
public sealed partial record RunFilter
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const int MaxTextLength = 200;

    /// The tenant the query is scoped to; null only for a super admin looking at every tenant.
    public string? Tenant { get; init; }
    public bool TenantChosen { get; init; }
    public string? Workflow { get; init; }
    public IReadOnlyList<string> Statuses { get; init; } = [];
    public string? Q { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public string? FromText { get; init; }
    public string? ToText { get; init; }
    public RunSort Sort { get; init; } = RunSort.Created;
    public bool Descending { get; init; } = true;
    public int Offset { get; init; }
    public int Limit { get; init; } = DefaultLimit;

    /// Keyset paging: the page starts after (or ends before) this run of the same sort; `Offset` then only numbers
    /// the page. Null: the page is read at `Offset`.
    public RunCursor? Cursor { get; init; }

    public static readonly IReadOnlySet<string> Parameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "layer_name", "workflow", "status", "q", "from", "to", "sort", "offset", "limit", "tenant", "after", "before",
    };

    public static readonly IReadOnlyList<int> PageSizes = [10, 20, 50, 100];

    public string SortToken => (Descending ? "-" : "") + Sort.ToString().ToLowerInvariant();

    /// The caller's own view without criteria: what the page shows beside a bad parameter.
    public static RunFilter For(Caller caller) => new() { Tenant = caller.TenantId };

    /// A super admin who named no tenant sees every tenant's runs, so each row names its tenant.
    public bool SpansTenantsFor(Caller caller) => caller.IsSuperAdmin && !TenantChosen;

    /// A tenant id as given: stored ids are 1-64 of [a-z0-9_-], and ASCII capitals are read as lowercase (omeercs's
    /// tenant is a Clerk organization id, `org_2NxQ8kLmZpYwVbT3`). `\z`: `$` would let a final line break through.
    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    public static partial Regex TenantPattern();

    /// `TenantPattern` in words, for every answer that refuses a tenant id.
    public const string TenantText = "1-64 of a-z, 0-9, _ and - (capitals are read as lowercase)";

    /// The tenant id `given` names, as stored and compared (lowercase); null when it is not one (`TenantText`).
    public static string? TenantId(string? given) => given is not null && TenantPattern().IsMatch(given) ? given.ToLowerInvariant() : null;

    /// The filter, or every bad parameter of the query (unknown, repeated or out of range) in the query's order.
    public static (RunFilter? Filter, IReadOnlyList<BadParameter>? Errors) Parse(IReadOnlyDictionary<string, string?[]> query, Caller caller)
    {
        var bad = new BadParameters(query.Keys);
        foreach (var (key, values) in query)
        {
            if (!Parameters.Contains(key))
                bad.Add(key, $"is not a list parameter; accepted: {string.Join(", ", Parameters.Order())}");
            else if (values.Length > 1 && key != "status")
                bad.Add(key, "was given more than once; give it once");
        }

        string? One(string name) => !bad.Holds(name) && query.TryGetValue(name, out var v) && v.Length > 0 && !string.IsNullOrWhiteSpace(v[0]) ? v[0]!.Trim() : null;
        // A number as given: a space around it (`%205`, `+5`) makes it no whole number, as any other character would.
        string? Number(string name) => One(name) is null ? null : query[name][0];

        var filter = For(caller);

        var (tenant, chosen, tenantError) = ScopeTenant(One("tenant"), caller);
        bad.Add(tenantError);
        filter = filter with { Tenant = tenant, TenantChosen = chosen };

        var (layerName, alias) = (One("layer_name"), One("workflow"));
        if (layerName is not null && alias is not null && layerName != alias)
            bad.Add("workflow", "is another name for layer_name; give one of them");
        else if ((layerName ?? alias) is { } workflow)
        {
            if (workflow.Length > MaxTextLength) bad.Add("layer_name", $"accepts a workflow name of at most {MaxTextLength} characters");
            else filter = filter with { Workflow = workflow };
        }

        if (!bad.Holds("status") && query.TryGetValue("status", out var statusValues))
        {
            var statuses = new List<string>();
            foreach (var part in statusValues.SelectMany(v => (v ?? "").Split(',')).Select(p => p.Trim()).Where(p => p.Length > 0))
            {
                var status = RunStatus.Normalize(part);
                if (status is null)
                {
                    bad.Add("status", $"accepts one or more of {RunStatus.AcceptedWords}, comma-separated; got '{Truncate(part)}'");
                    break;
                }
                if (!statuses.Contains(status)) statuses.Add(status);
            }
            filter = filter with { Statuses = statuses };
        }

        if (One("q") is { } q)
        {
            if (q.Length > MaxTextLength) bad.Add("q", $"accepts a run id or name of at most {MaxTextLength} characters");
            else filter = filter with { Q = q };
        }

        if (One("from") is { } fromText)
        {
            if (!DbTime.TryParseIso(fromText, out var from, out _))
                bad.Add("from", "accepts an ISO-8601 date (2026-11-21) or date-time (2026-11-21T08:00:00Z), UTC");
            else filter = filter with { From = from, FromText = fromText };
        }

        if (One("to") is { } toText)
        {
            if (!DbTime.TryParseIso(toText, out var to, out var dateOnly))
                bad.Add("to", "accepts an ISO-8601 date (2026-11-21) or date-time (2026-11-21T18:00:00Z), UTC");
            else
            {
                // A date alone means the whole of that day (the calendar's last day: up to its end).
                var end = !dateOnly ? to : to.UtcDateTime.Date == DateTime.MaxValue.Date ? DateTimeOffset.MaxValue : to.AddDays(1);
                filter = filter with { To = end, ToText = toText };
            }
        }

        if (filter.From is { } f && filter.To is { } t && f >= t)
            bad.Add("to", "must be later than from");

        if (One("sort") is { } sort)
        {
            var descending = sort.StartsWith('-');
            var key = descending ? sort[1..] : sort;
            RunSort? parsed = key switch
            {
                "created" => RunSort.Created,
                "status" => RunSort.Status,
                "duration" => RunSort.Duration,
                _ => null,
            };
            if (parsed is null)
                bad.Add("sort", "accepts created, status or duration, with a leading - for descending (default -created)");
            else filter = filter with { Sort = parsed.Value, Descending = descending };
        }

        if (Number("offset") is { } offsetText)
        {
            if (!int.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
                bad.Add("offset", "accepts a whole number from 0 to 2,147,483,647");
            else filter = filter with { Offset = offset };
        }

        if (Number("limit") is { } limitText)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > MaxLimit)
                bad.Add("limit", $"accepts a whole number from 1 to {MaxLimit}");
            else filter = filter with { Limit = limit };
        }

        var after = One("after");
        var before = One("before");
        if (after is not null && before is not null) bad.Add("before", "cannot be given with after; give one of them");
        // A token belongs to its sort: with the sort refused there is none to read it in.
        else if ((after ?? before) is { } token && !bad.Holds("sort"))
        {
            var name = after is not null ? "after" : "before";
            var cursor = RunCursor.Parse(token, filter, before: after is null);
            if (cursor is null)
                bad.Add(name, $"accepts the token of a {(after is not null ? "Next" : "Previous")} link of this list, in its sort ({filter.SortToken})");
            else filter = filter with { Cursor = cursor };
        }

        return bad.All is { } errors ? (null, errors) : (filter, null);
    }

    /// The tenant a query reads: the caller's own unless a super admin names one (blank: not named).
    public static (string? Tenant, bool Chosen, BadParameter? Error) ScopeTenant(string? asked, Caller caller)
    {
        asked = string.IsNullOrWhiteSpace(asked) ? null : asked.Trim();
        if (asked is null) return (caller.TenantId, false, null);
        if (!caller.IsSuperAdmin)
            return (null, false, new BadParameter("tenant", "is for super admins only; your key sees its own tenant"));
        if (TenantId(asked) is not { } tenant)
            return (null, false, new BadParameter("tenant", $"accepts a tenant id: {TenantText}"));
        return (tenant, true, null);
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";

    /// The query string for this filter, leaving out defaults; `with` overrides single values.
    public string ToQueryString(int? offset = null, string? sort = null, int? limit = null, bool includePaging = true, RunCursor? cursor = null) =>
        QueryString.Create(RouteValues(offset, sort, limit, includePaging, cursor).Select(p => KeyValuePair.Create(p.Key, (string?)p.Value))).ToString();

    /// The view's parameters as the list's links carry them (defaults left out), for `hx-all-route-data` and the query string.
    /// The view's own cursor stays only while nothing of the page is overridden; `cursor` sets a Next/Previous link's.
    public Dictionary<string, string> RouteValues(int? offset = null, string? sort = null, int? limit = null, bool includePaging = true, RunCursor? cursor = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (TenantChosen && Tenant is not null) values["tenant"] = Tenant;
        if (Workflow is not null) values["layer_name"] = Workflow;
        if (Statuses.Count > 0) values["status"] = string.Join(',', Statuses);
        if (Q is not null) values["q"] = Q;
        if (FromText is not null) values["from"] = FromText;
        if (ToText is not null) values["to"] = ToText;
        var sortToken = sort ?? SortToken;
        if (sortToken != "-created") values["sort"] = sortToken;
        if (includePaging && (offset ?? Offset) is > 0 and var o) values["offset"] = o.ToString(CultureInfo.InvariantCulture);
        var l = limit ?? Limit;
        if (l != DefaultLimit) values["limit"] = l.ToString(CultureInfo.InvariantCulture);
        var keyset = cursor ?? (offset is null && sort is null && limit is null ? Cursor : null);
        if (includePaging && keyset is not null) values[keyset.ParameterName] = keyset.Token;
        return values;
    }
}
