using System.Data;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// A page of runs. `Total` is exact from the counters, or for free-text and date filters counted up to
/// `RunListQuery.CountCap` with `TotalCapped` set beyond it (shown as `10,000+`). `SearchedNewest` is set when a name
/// too common to search every run for was looked for among that many newest runs of the other filters only.
/// `SharedIds`: for a super admin's view, the ids of the page also held by a run of another tenant (their links name the tenant).
public sealed record RunPage(IReadOnlyList<RunRow> Items, long Total, RunFilter Filter, bool TotalCapped = false, int? SearchedNewest = null)
{
    public IReadOnlySet<string> SharedIds { get; init; } = new HashSet<string>();
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

    public async Task<RunPage> ListAsync(RunFilter filter, CancellationToken ct = default)
    {
        if (!_cached) return await ReadListAsync(filter, ct);
        var key = (filter.Tenant ?? "*") + "|" + filter.ToQueryString();
        var commits = database.Commits;
        var now = Environment.TickCount64;
        if (_listCache.TryGetValue(key, out var cached) && cached.Commits == commits && now - cached.At < 1000)
            return cached.Page with { Filter = filter };
        var page = await ReadListAsync(filter, ct);
        if (_listCache.Count >= ListCacheEntries) _listCache.Clear();
        _listCache[key] = (page, commits, now);
        return page;
    }

    private async Task<RunPage> ReadListAsync(RunFilter filter, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var (read, skip) = StartOf(filter);
        var built = await query.BuildAsync(connection, read, skip);
        var items = (await connection.QueryAsync<RunRow>(built.ItemsSql, built.Parameters)).ToList();
        if (built.TailSql is not null && items.Count < filter.Limit)
        {
            built.Parameters.Add("TailLimit", filter.Limit - items.Count);
            // A page that starts past the cursor's part: what of the skip that part did not hold is skipped in the tail.
            if (items.Count == 0 && skip > 0)
                built.Parameters.Add("TailOffset", skip - await connection.ExecuteScalarAsync<long>(built.HeadCountSql!, built.Parameters));
            items.AddRange(await connection.QueryAsync<RunRow>(built.TailSql, built.Parameters));
        }
        if (built.Reversed) items.Reverse();
        if (read.Cursor is null) Remember(filter, items);
        var counted = await connection.ExecuteScalarAsync<long>(built.CountSql, built.Parameters);
        var capped = built.CountIsCapped && counted > RunListQuery.CountCap;
        // A tenant's caller never sees another tenant's runs; a super admin's links must say which run an id means.
        var superAdminView = filter.Tenant is null || filter.TenantChosen;
        return new RunPage(items, capped ? RunListQuery.CountCap : counted, filter, capped, built.SearchedNewest)
        {
            SharedIds = superAdminView ? await SharedIdsAsync(connection, items) : new HashSet<string>(),
        };
    }

    // Places in a list: a list's key → (an offset, the cursor that reads from the run at that offset, when it was
    // read there). A page asked for by a deep offset alone (a typed URL, a script, a poll) starts from the nearest
    // place at or before it and skips only the rows between, instead of reading and discarding the whole offset.
    // Only a page read by its offset leaves places (its first run and the one after its last), so a place is exact
    // when made; writes since may move runs above it, so it serves PlaceLifetimeMs: a jump lands where that offset
    // was up to then. Bounded like the cache: a flood of distinct lists empties it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Place[]> _places = new();
    private sealed record Place(int Offset, RunCursor From, long At);
    private const int PlaceLists = 256;
    private const int PlacesPerList = 32;
    private const long PlaceLifetimeMs = 30_000;

    /// Offsets below this are read directly: discarding them costs less than remembering places.
    public const int JumpFrom = 1_000;

    private static string PlacesKey(RunFilter filter) => (filter.Tenant ?? "*") + "|" + filter.ToQueryString(includePaging: false);

    // The page to read and how many rows to skip from its cursor: a place for a deep offset without a cursor. In the
    // duration sort a place names its part (with a duration, or without: read after all others), and a skip that runs
    // past the end of the part it starts in goes on in the other (`HeadCountSql`).
    private (RunFilter Read, int Skip) StartOf(RunFilter filter)
    {
        if (filter.Cursor is not null || filter.Offset < JumpFrom
            || !_places.TryGetValue(PlacesKey(filter), out var places)) return (filter, 0);
        var now = Environment.TickCount64;
        var best = places.Where(p => p.Offset <= filter.Offset && now - p.At < PlaceLifetimeMs).MaxBy(p => p.Offset);
        return best is null ? (filter, 0) : (filter with { Cursor = best.From }, filter.Offset - best.Offset);
    }

    private void Remember(RunFilter filter, List<RunRow> items)
    {
        if (items.Count == 0 || filter.Offset < JumpFrom - RunFilter.MaxLimit) return;
        var now = Environment.TickCount64;
        // From the first run itself: after the cursor of a run one `pk` step before it in the list's order.
        var first = RunCursor.From(items[0], filter, before: false);
        first = first with { Pk = first.Pk + (filter.Descending ? 1 : -1) };
        Place[] made = [new(filter.Offset, first, now), new(filter.Offset + items.Count, RunCursor.From(items[^1], filter, before: false), now)];
        var key = PlacesKey(filter);
        if (_places.Count >= PlaceLists && !_places.ContainsKey(key)) _places.Clear();
        _places.AddOrUpdate(key, made, (_, old) => old.Where(p => made.All(m => m.Offset != p.Offset))
            .OrderByDescending(p => p.At).Take(PlacesPerList - made.Length).Concat(made).ToArray());
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
