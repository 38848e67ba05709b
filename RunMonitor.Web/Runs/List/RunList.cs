using System.Data;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// A page of runs. `Total` is exact from the counters, or for free-text and date filters counted up to
/// `RunListQuery.CountCap` with `CountCapped` set beyond it. `SearchedNewest` is set when a name too common to search
/// every run for was looked for among that many newest runs of the other filters only: `Total` counts those, and older
/// runs may match too. Either way `TotalCapped`: at least `Total` runs match (shown as `10,000+`).
/// `SharedIds`: for a super admin's view, the ids of the page also held by a run of another tenant (their links name the tenant).
public sealed record RunPage(IReadOnlyList<RunRow> Items, long Total, RunFilter Filter, bool CountCapped = false, int? SearchedNewest = null)
{
    public IReadOnlySet<string> SharedIds { get; init; } = new HashSet<string>();

    /// The table's page only: the first listed error (lowest `seq`, its text as far as the table reads a message) of
    /// each run that ended without an error text (`RunRow.EndedWithoutErrorText`) and lists errors, by tenant and id.
    public IReadOnlyDictionary<(string TenantId, string RunId), RunErrorRow> FirstListedErrors { get; init; } =
        new Dictionary<(string, string), RunErrorRow>();

    public RunErrorRow? FirstListedErrorOf(RunRow run) => FirstListedErrors.GetValueOrDefault((run.TenantId, run.Id));

    public bool TotalCapped => CountCapped || SearchedNewest is not null;

    /// Runs past `offset` + `shown` to page to: the count stopped before the last match, or it counted more. The runs
    /// a search window left out are not pages of this list (a date range reaches them).
    public bool HasMoreAfter(int offset, int shown) => CountCapped || offset + shown < Total;
}

/// `/ui/runs/list`, `/api/runs` and the filter form's choices: a page of runs for a filter (through a one-second
/// cache), the recent runs, the workflows and tenants to choose from. Every read is scoped by tenant.
public sealed class RunList(Database database, RunListQuery query, ISqlDialect dialect, IConfiguration configuration)
{
    // Every open dashboard polls the same page of the same list: an answer is reused for a second at most,
    // and only while nothing has been written since it was read (through this instance, or another one
    // sharing the store). Bounded: a flood of distinct filters empties it rather than growing it.
    // `RunMonitor:Lists:Cache` false turns it off (the benchmark measures the list without it).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (RunPage Page, long Commits, long At)> _listCache = new();
    private const int ListCacheEntries = 512;
    private readonly bool _cached = configuration.GetValue("RunMonitor:Lists:Cache", true);

    /// The run table's page: each run's error message as far as the table shows it (`RunRows.ListColumns`).
    public Task<RunPage> ListAsync(RunFilter filter, CancellationToken ct = default) => ListAsync(filter, RunListQuery.Rows.Table, ct);

    /// `/api/runs`'s page: each run's whole error message (`RunRows.SummaryColumns`).
    public Task<RunPage> SummariesAsync(RunFilter filter, CancellationToken ct = default) => ListAsync(filter, RunListQuery.Rows.Summary, ct);

    private async Task<RunPage> ListAsync(RunFilter filter, RunListQuery.Rows rows, CancellationToken ct)
    {
        if (!_cached) return await ReadListAsync(filter, rows, ct);
        var key = (rows == RunListQuery.Rows.Summary ? "summary|" : "") + (filter.Tenant ?? "*") + "|" + filter.ToQueryString();
        var commits = database.Commits;
        var now = Environment.TickCount64;
        if (_listCache.TryGetValue(key, out var cached) && cached.Commits == commits && now - cached.At < 1000)
            return cached.Page with { Filter = filter };
        var page = await ReadListAsync(filter, rows, ct);
        if (_listCache.Count >= ListCacheEntries) _listCache.Clear();
        _listCache[key] = (page, commits, now);
        return page;
    }

    private async Task<RunPage> ReadListAsync(RunFilter filter, RunListQuery.Rows rows, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var start = await StartOfAsync(connection, filter);
        var (items, built) = await ReadItemsAsync(connection, start.Read, start.Skip, rows);
        if (filter.Cursor is null) Remember(filter, items, start.Seen);
        var counted = await connection.ExecuteScalarAsync<long>(built.CountSql, built.Parameters);
        var capped = built.CountIsCapped && counted > RunListQuery.CountCap;
        // A tenant's caller never sees another tenant's runs; a super admin's links must say which run an id means.
        var superAdminView = filter.Tenant is null || filter.TenantChosen;
        return new RunPage(items, capped ? RunListQuery.CountCap : counted, filter, capped, built.SearchedNewest)
        {
            SharedIds = superAdminView ? await SharedIdsAsync(connection, items) : new HashSet<string>(),
            FirstListedErrors = rows == RunListQuery.Rows.Table ? await FirstListedErrorsAsync(connection, items) : new Dictionary<(string, string), RunErrorRow>(),
        };
    }

    // A page's runs' first listed errors in one read after the page's, not a subquery of the list's SELECT: a sort may
    // evaluate that for every run it orders (docs/PERFORMANCE.md measures the list at 1M runs). Tenants and ids are
    // matched as two lists, so a super admin's page may read the first error of an id in another of its tenants too:
    // the pairs are matched again here. `error` is read as far as the table reads a message (`RunRows.ListColumns`).
    public const string SelectFirstListedErrors = """
        SELECT e.tenant_id AS TenantId, e.run_id AS RunId, e.seq AS Seq, e.topic AS Topic, substr(e.error, 1, 501) AS Error, e.node AS Node
        FROM (SELECT tenant_id, run_id, MIN(seq) AS seq FROM run_errors WHERE tenant_id IN @Tenants AND run_id IN @Ids GROUP BY tenant_id, run_id) f
        JOIN run_errors e ON e.tenant_id = f.tenant_id AND e.run_id = f.run_id AND e.seq = f.seq
        """;
    private readonly string _selectFirstListedErrors = dialect.Lists(SelectFirstListedErrors);

    private async Task<IReadOnlyDictionary<(string TenantId, string RunId), RunErrorRow>> FirstListedErrorsAsync(IDbConnection connection, List<RunRow> items)
    {
        var wanted = items.Where(r => r.EndedWithoutErrorText).Select(r => (r.TenantId, r.Id)).ToHashSet();
        if (wanted.Count == 0) return new Dictionary<(string, string), RunErrorRow>();
        var errors = await connection.QueryAsync<RunErrorRow>(_selectFirstListedErrors, new
        {
            Tenants = wanted.Select(w => w.TenantId).Distinct().ToArray(),
            Ids = wanted.Select(w => w.Id).Distinct().ToArray(),
        });
        return errors.Where(e => wanted.Contains((e.TenantId, e.RunId))).ToDictionary(e => (e.TenantId, e.RunId));
    }

    // The page's runs from its cursor (or offset), `skip` rows past it, in the list's order.
    private async Task<(List<RunRow> Items, RunListQuery.ListQuery Built)> ReadItemsAsync(IDbConnection connection, RunFilter read, int skip,
        RunListQuery.Rows rows = RunListQuery.Rows.Table)
    {
        var built = await query.BuildAsync(connection, read, skip, rows);
        var items = (await connection.QueryAsync<RunRow>(built.ItemsSql, built.Parameters)).ToList();
        if (built.TailSql is not null && items.Count < read.Limit)
        {
            built.Parameters.Add("TailLimit", read.Limit - items.Count);
            // A page that starts past the cursor's part: what of the skip that part did not hold is skipped in the tail.
            if (items.Count == 0 && skip > 0)
                built.Parameters.Add("TailOffset", skip - await connection.ExecuteScalarAsync<long>(built.HeadCountSql!, built.Parameters));
            items.AddRange(await connection.QueryAsync<RunRow>(built.TailSql, built.Parameters));
        }
        if (built.Reversed) items.Reverse();
        return (items, built);
    }

    // Places in a list: a list's key → (an offset, the cursor that reads from the run at that offset, when the list
    // was seen so). A page asked for by a deep offset alone (a typed URL, a script, a poll) starts from the nearest
    // place at or before it and skips only the rows between, instead of reading and discarding the whole offset. A
    // place is exact when the list is read: a page leaves one at its first run and one after its last, and a jump
    // further than PlaceStep past the nearest place walks there in steps of PlaceStep, leaving a place at each, so
    // every offset up to the deepest one asked for is then at most PlaceStep rows from a place. Writes since may move
    // runs above a place, so it serves PlaceLifetimeMs from when the list was seen from the start (places walked or
    // read from a place keep that place's time): a jump lands where that offset was up to then. Bounded like the
    // cache: a flood of distinct lists empties it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Place[]> _places = new();
    private sealed record Place(int Offset, RunCursor From, long Seen);
    private const int PlaceLists = 256;
    private const int PlacesPerList = 128;
    private const long PlaceLifetimeMs = 30_000;

    /// Offsets below this are read directly: discarding them costs less than remembering places.
    public const int JumpFrom = 1_000;

    // How far apart a walk leaves places (`RunMonitor:Lists:PlaceStep`, for tests). A jump then skips at most 10,000 rows
    // of an index: p99 6.5 ms at the 1M store while 8 writers ingest, against 25.5 ms with places 25,000 apart
    // (docs/PERFORMANCE.md, "Deep pages without the list cache").
    private readonly int _placeStep = Math.Max(RunFilter.MaxLimit, configuration.GetValue("RunMonitor:Lists:PlaceStep", 10_000));

    private static string PlacesKey(RunFilter filter) => (filter.Tenant ?? "*") + "|" + filter.ToQueryString(includePaging: false);

    // The page to read, how many rows to skip from its cursor, and since when the start is known: the nearest place
    // for a deep offset without a cursor, walked on to within PlaceStep of the offset. In the duration sort a place
    // names its part (with a duration, or without: read after all others), and a skip that runs past the end of the
    // part it starts in goes on in the other (`HeadCountSql`).
    private async Task<(RunFilter Read, int Skip, long Seen)> StartOfAsync(IDbConnection connection, RunFilter filter)
    {
        var now = Environment.TickCount64;
        if (filter.Cursor is not null || filter.Offset < JumpFrom) return (filter, 0, now);
        var key = PlacesKey(filter);
        var best = _places.TryGetValue(key, out var places)
            ? places.Where(p => p.Offset <= filter.Offset && now - p.Seen < PlaceLifetimeMs).MaxBy(p => p.Offset)
            : null;
        var (at, from, seen) = best is null ? (0, null, now) : (best.Offset, best.From, best.Seen);
        var walked = new List<Place>();
        while (filter.Offset - at > _placeStep)
        {
            // The run just before the next place, read alone: the place reads from the run after it.
            var next = at + _placeStep;
            var (runs, _) = await ReadItemsAsync(connection, filter with { Cursor = from, Offset = next - 1, Limit = 1 }, from is null ? 0 : next - 1 - at);
            if (runs.Count == 0) break;
            (at, from) = (next, RunCursor.From(runs[0], filter, before: false));
            walked.Add(new Place(at, from, seen));
        }
        Keep(key, walked);
        return from is null ? (filter, 0, now) : (filter with { Cursor = from }, filter.Offset - at, seen);
    }

    private void Remember(RunFilter filter, List<RunRow> items, long seen)
    {
        if (items.Count == 0 || filter.Offset < JumpFrom - RunFilter.MaxLimit) return;
        // From the first run itself: after the cursor of a run one `pk` step before it in the list's order.
        var first = RunCursor.From(items[0], filter, before: false);
        first = first with { Pk = first.Pk + (filter.Descending ? 1 : -1) };
        Keep(PlacesKey(filter), [new(filter.Offset, first, seen), new(filter.Offset + items.Count, RunCursor.From(items[^1], filter, before: false), seen)]);
    }

    private void Keep(string key, IReadOnlyList<Place> made)
    {
        if (made.Count == 0) return;
        if (_places.Count >= PlaceLists && !_places.ContainsKey(key)) _places.Clear();
        _places.AddOrUpdate(key, _ => [.. made], (_, old) => old.Where(p => made.All(m => m.Offset != p.Offset))
            .OrderByDescending(p => p.Seen).Take(Math.Max(0, PlacesPerList - made.Count)).Concat(made).ToArray());
    }

    private const string SelectSharedIds = "SELECT id FROM runs WHERE id IN @Ids GROUP BY id HAVING COUNT(*) > 1";
    private readonly string _selectSharedIds = dialect.Lists(SelectSharedIds);

    /// Which of these runs' ids a run of another tenant holds too.
    public async Task<IReadOnlySet<string>> SharedIdsAsync(IReadOnlyList<RunRow> runs, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await SharedIdsAsync(connection, runs);
    }

    private async Task<IReadOnlySet<string>> SharedIdsAsync(IDbConnection connection, IReadOnlyList<RunRow> runs) =>
        runs.Count == 0 ? new HashSet<string>()
            : (await connection.QueryAsync<string>(_selectSharedIds, new { Ids = runs.Select(r => r.Id).Distinct().ToArray() })).ToHashSet(StringComparer.Ordinal);

    public const string SelectRecent = $"SELECT {RunRows.ListColumns} FROM runs WHERE tenant_id = @Tenant ORDER BY created_at DESC, pk DESC LIMIT @Limit";
    public const string SelectRecentAll = $"SELECT {RunRows.ListColumns} FROM runs ORDER BY created_at DESC, pk DESC LIMIT @Limit";

    public async Task<IReadOnlyList<RunRow>> RecentAsync(string? tenant, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<RunRow>(tenant is null ? SelectRecentAll : SelectRecent, new { Tenant = tenant, Limit = limit })).ToList();
    }

    private const string SelectWorkflows = "SELECT DISTINCT workflow_name FROM workflows WHERE tenant_id = @Tenant ORDER BY workflow_name";
    private const string SelectWorkflowsAll = "SELECT DISTINCT workflow_name FROM workflows ORDER BY workflow_name";

    public async Task<IReadOnlyList<string>> WorkflowsAsync(string? tenant, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<string>(tenant is null ? SelectWorkflowsAll : SelectWorkflows, new { Tenant = tenant })).ToList();
    }

    private const string SelectTenants = "SELECT DISTINCT tenant_id FROM workflows ORDER BY tenant_id";

    public async Task<IReadOnlyList<string>> TenantsAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<string>(SelectTenants)).ToList();
    }

    private const string SelectWorkflowsAndTenants = $"{SelectWorkflows};\n{SelectTenants}";
    private const string SelectWorkflowsAllAndTenants = $"{SelectWorkflowsAll};\n{SelectTenants}";

    /// The filter form's choices on one connection: the tenant's workflows (all for null) and, for a super admin, the tenants.
    public async Task<(IReadOnlyList<string> Workflows, IReadOnlyList<string> Tenants)> FilterChoicesAsync(string? tenant, bool withTenants, CancellationToken ct = default)
    {
        if (!withTenants) return (await WorkflowsAsync(tenant, ct), []);
        await using var connection = await database.OpenAsync(ct);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            tenant is null ? SelectWorkflowsAllAndTenants : SelectWorkflowsAndTenants, new { Tenant = tenant }, cancellationToken: ct));
        return ((await results.ReadAsync<string>()).AsList(), (await results.ReadAsync<string>()).AsList());
    }
}
