using System.Globalization;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.SavedViews;

/// A run opened from the list knows which list (`list`: the list's query string) and where in it (`at`: its index,
/// from 0): the modal and the run page then link the runs before and after it in that same list, so previous/next
/// walk the filtered, sorted view the person was looking at. Both travel in the URL, so the links work without script.
public sealed record ListWalk(string List, int At, RunRow? Previous, RunRow? Next, long Total, bool TotalCapped)
{
    public const string ListParameter = "list";
    public const string AtParameter = "at";
    public const int MaxAt = 1_000_000;

    /// `list` naming the list's own refusals of the query it holds.
    public static BadParameter RefusedList(IEnumerable<BadParameter> errors) => SavedViewRules.CarriedIn(ListParameter, errors);

    /// The walk for run `id` when the request names a list, null when it names none, or the 400 for a bad one.
    /// `query`: the request's query as name/value pairs (`QueryPairs.ToPairs` at the edge).
    public static async Task<(ListWalk? Walk, BadParameter? Error)> ReadAsync(IReadOnlyDictionary<string, string?[]> query, Caller caller, string id,
        RunList store, CancellationToken ct)
    {
        var hasAt = query.TryGetValue(AtParameter, out var atValues);
        var hasList = query.TryGetValue(ListParameter, out var listValues);
        if (!hasAt && !hasList) return (null, null);
        // A place names nothing without its list (the links always carry both, `list=` empty for the unfiltered list).
        if (!hasList)
            return (null, new BadParameter(ListParameter, "is needed with at: the query string of the list the run was opened from (empty for the whole list)"));
        if (atValues is not [var atText] || !int.TryParse(atText, NumberStyles.None, CultureInfo.InvariantCulture, out var at) || at > MaxAt)
            return (null, new BadParameter(AtParameter, $"accepts the run's place in the list: a whole number from 0 to {MaxAt:N0}, given once with list"));
        var list = listValues is [var one] ? one ?? "" : "";
        if (listValues is { Length: > 1 } || list.Length > SavedViewRules.MaxQueryLength)
            return (null, new BadParameter(ListParameter, $"accepts the list's query string once, at most {SavedViewRules.MaxQueryLength} characters"));
        var (pairs, textError) = SavedViewRules.PairsOf(list);
        if (textError is not null) return (null, RefusedList([textError]));
        var (filter, errors) = RunFilter.Parse(pairs!, caller);
        if (errors is not null) return (null, RefusedList(errors));

        // The runs on either side; when the list moved since it was shown (new runs on top), the run is looked for
        // in that window and its neighbours taken from where it is now.
        var offset = Math.Max(0, at - 1);
        var page = await store.ListAsync(filter! with { Offset = offset, Limit = 3, Cursor = null }, ct);
        var rows = page.Items;
        var here = rows.ToList().FindIndex(r => r.Id == id);
        var atIndex = here >= 0 ? here : at - offset;
        RunRow? Pick(int i) => i >= 0 && i < rows.Count && rows[i].Id != id ? rows[i] : null;
        var position = here >= 0 ? offset + here : at;
        return (new ListWalk(list, position, Pick(atIndex - 1), Pick(atIndex + 1), page.Total, page.TotalCapped), null);
    }

    /// `?list=…&at=…` for the run `step` places from this one, after `?tenant=` when the link needs it (RunTenant.ForLink).
    public string QueryFor(int step, string? tenant)
    {
        var values = new List<KeyValuePair<string, string?>>();
        if (tenant is not null) values.Add(KeyValuePair.Create(RunTenant.Parameter, (string?)tenant));
        values.Add(KeyValuePair.Create(ListParameter, (string?)List));
        values.Add(KeyValuePair.Create(AtParameter, (string?)(At + step).ToString(CultureInfo.InvariantCulture)));
        return QueryString.Create(values).ToString();
    }
}

/// `_RunWalk`: the previous/next links of a run opened from the list, on the run page or in the modal.
public sealed record RunWalkModel(ListWalk Walk, bool InModal);
