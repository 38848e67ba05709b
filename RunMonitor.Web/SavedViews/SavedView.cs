using Microsoft.AspNetCore.WebUtilities;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.SavedViews;

/// Every URL of saved views and of the page preferences, named once (SPEC "Views and preferences").
/// A saved view as stored: the list's query string (RunFilter's own spelling, without `?` and paging) under a name.
public sealed record SavedViewRow
{
    public long Id { get; init; }
    public string TenantId { get; init; } = "";
    public string Name { get; init; } = "";
    public string Query { get; init; } = "";
    public string CreatedBy { get; init; } = "";
    public string CreatedAt { get; init; } = "";

    public string Url => Routes.RunsFor(Query);
}

/// The JSON of a view (`POST /api/views`, `GET /api/views`).
public sealed record SavedViewJson(long Id, string Name, string Query, string Url, string CreatedBy, DateTimeOffset CreatedAt)
{
    public static SavedViewJson From(SavedViewRow row) => new(row.Id, row.Name, row.Query, row.Url, row.CreatedBy, DbTime.Parse(row.CreatedAt));
}

/// The rules of a view: its name, its query (validated by the list's own RunFilter, so a query the list would
/// refuse is refused with the list's 400 text), and whose views a caller reads and writes.
public static class SavedViewRules
{
    public const int MaxNameLength = 100;
    public const int MaxQueryLength = 2000;
    public const int MaxPerTenant = 200;
    /// The views super admins keep (they see every tenant, so theirs belong to none).
    public const string AllTenants = "*";

    public static bool CanWrite(Caller caller) => Policies.Allows(Policies.RequireOperator, caller);

    /// The tenant whose views the caller reads and writes.
    public static string ScopeOf(Caller caller) => caller.TenantId ?? AllTenants;

    public static string? CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "must not be empty"
        : name.Trim().Length > MaxNameLength ? $"must be at most {MaxNameLength} characters"
        : DisguisedText.Find(name) is not null ? DisguisedText.Rule
        : null;

    /// The query as the list writes it (defaults and paging left out), or the list's own 400 for it (every bad parameter).
    public static (string? Query, IReadOnlyList<BadParameter>? Errors) NormalizeQuery(string? query, Caller caller) =>
        Normalize(query, caller, refusePage: false);

    /// The query `POST /api/views` saves: the list's, without a page. A view opens on its first page, so a place in the
    /// list (`offset`, `after`, `before`) is refused rather than dropped without a word. (The runs page's form saves the
    /// address bar of whatever page it is on: there the page is left out, as the person saving it means the list.)
    public static (string? Query, IReadOnlyList<BadParameter>? Errors) NormalizeViewQuery(string? query, Caller caller) =>
        Normalize(query, caller, refusePage: true);

    private static (string? Query, IReadOnlyList<BadParameter>? Errors) Normalize(string? query, Caller caller, bool refusePage)
    {
        query ??= "";
        if (query.Length > MaxQueryLength) return (null, [new BadParameter("query", $"must be at most {MaxQueryLength} characters")]);
        var (pairs, textError) = PairsOf(query);
        if (textError is not null) return (null, [textError]);
        if (refusePage && pairs!.Keys.FirstOrDefault(k => k is "offset" or "after" or "before") is { } paging)
            return (null, [new BadParameter("query", $"keeps a filter, its sort and page size, not a page: leave out {paging} (a view opens on its first page)")]);
        var (filter, errors) = RunFilter.Parse(pairs!, caller);
        if (errors is not null) return (null, errors);
        return (filter!.ToQueryString(includePaging: false).TrimStart('?'), null);
    }

    /// A list's query string carried inside another parameter (a view's `query`, a run's `list`, the bulk form's
    /// `query`) as name/value pairs. It is decoded here a second time, after the middleware checked the request's own
    /// query and form (StorableText): what that refuses is refused here by the same words, before any store sees it.
    public static (IReadOnlyDictionary<string, string?[]>? Pairs, BadParameter? Error) PairsOf(string query)
    {
        var pairs = QueryHelpers.ParseQuery(query.StartsWith('?') ? query : "?" + query)
            .ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
        foreach (var (key, values) in pairs)
        {
            if (!StorableText.IsStorable(key)) return (null, new BadParameter("query", StorableText.Rule));
            if (values.Any(v => v is not null && !StorableText.IsStorable(v))) return (null, new BadParameter(key, StorableText.Rule));
        }
        return (pairs, null);
    }

    /// The refusals of a carried list query, named after the parameter that carried it (`list`, `query`).
    public static BadParameter CarriedIn(string carrier, IEnumerable<BadParameter> errors) =>
        new(carrier, $"holds a list query the list refuses: {BadParameter.Describe(errors)}");
}

/// `_SavedViews` on the runs page: the tenant's views as links (the one shown now marked), and for an operator the
/// "Save this view" form holding the current query and a delete button per view.
public sealed record SavedViewsModel(IReadOnlyList<SavedViewRow> Views, string CurrentQuery, bool CanWrite)
{
    public bool IsCurrent(SavedViewRow view) => view.Query == CurrentQuery;
}
