using System.Data;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// The list's SQL for a filter: the WHERE clause from fixed fragments (every value a parameter), the name search
/// and its window, the ORDER BY from a whitelist, the page and its count. Serves the page, `/api/runs` and the exports.
public sealed class RunListQuery(ISqlDialect dialect)
{
    /// How far a free-text or date-filtered list is counted before it says "10,000+".
    public const int CountCap = 10_000;

    // Up to this many trigram matches drive the query, each looked up by its key.
    private const int SearchDriveLimit = 10_000;

    /// A name in more than SearchDriveLimit names is looked for among this many newest runs of the other filters,
    /// not all of them: neither way round is bounded otherwise. A date range (`to`) moves the window back.
    public const int SearchWindow = 10_000;

    /// Names are searched from this many characters on: the trigram indexes need three.
    public const int NameSearchMinimum = 3;

    /// How `q` reads names. Index: the trigram matches drive the query. Common: the name is a filter on runs read
    /// newest-first; CommonWindowed: only the newest SearchWindow of them, and older ones exist.
    public enum NameSearch { None, Index, Common, CommonWindowed }

    /// `windowed`: a common name is looked for among the newest SearchWindow runs only (the list); without it,
    /// among all (the export).
    public async Task<(string Where, DynamicParameters Parameters, NameSearch Search)> WhereAsync(IDbConnection connection, RunFilter filter, bool windowed = false)
    {
        var clauses = new List<string>();
        var p = new DynamicParameters();
        if (filter.Tenant is not null) { clauses.Add("tenant_id = @Tenant"); p.Add("Tenant", filter.Tenant); }
        if (filter.Workflow is not null) { clauses.Add("workflow_name = @Workflow"); p.Add("Workflow", filter.Workflow); }
        if (filter.Statuses.Count == 1) { clauses.Add("status = @Status"); p.Add("Status", filter.Statuses[0]); }
        else if (filter.Statuses.Count > 1) { clauses.Add(dialect.Lists("status IN @Statuses")); p.Add("Statuses", filter.Statuses.ToArray()); }
        if (filter.From is { } from) { clauses.Add("created_at >= @From"); p.Add("From", DbTime.ToDb(from)); }
        if (filter.To is { } to) { clauses.Add("created_at < @To"); p.Add("To", DbTime.ToDb(to)); }
        var search = NameSearch.None;
        if (filter.Q is { } q)
        {
            (var clause, search) = await SearchClauseAsync(connection, q, p);
            if (search == NameSearch.Common && windowed && await AddSearchWindowAsync(connection, clauses, p)) search = NameSearch.CommonWindowed;
            clauses.Add(clause);
        }
        return (Where(clauses), p, search);
    }

    private static string Where(List<string> clauses) => clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);

    private sealed class WindowEdge
    {
        public string CreatedAt { get; init; } = "";
        public long Pk { get; init; }
    }

    // The SearchWindow-th newest run the other clauses select (an index range read in order, ids only); the window
    // is it and every run newer. False when there are fewer: then every run is searched.
    private static async Task<bool> AddSearchWindowAsync(IDbConnection connection, List<string> clauses, DynamicParameters p)
    {
        p.Add("WindowEdgeOffset", SearchWindow - 1);
        var edge = await connection.QueryFirstOrDefaultAsync<WindowEdge>(
            $"SELECT created_at AS CreatedAt, pk AS Pk FROM runs {Where(clauses)} ORDER BY created_at DESC, pk DESC LIMIT 1 OFFSET @WindowEdgeOffset", p);
        if (edge is null) return false;
        p.Add("EdgeCreated", edge.CreatedAt);
        p.Add("EdgePk", edge.Pk);
        clauses.Add("created_at >= @EdgeCreated AND (created_at, pk) >= (@EdgeCreated, @EdgePk)");
        return true;
    }

    /// `q`: a run id prefix (an index range), or from NameSearchMinimum characters on also a name substring, in
    /// the dialect's spelling (LIKE-escaped, so % and _ are literal). A shorter `q` matches run ids only (a name
    /// index for it cost every insert more than it was worth: migration 0007).
    private async Task<(string Clause, NameSearch Search)> SearchClauseAsync(IDbConnection connection, string q, DynamicParameters p)
    {
        p.Add("QLow", q);
        p.Add("QHigh", q + '\uffff');
        var lower = q.ToLowerInvariant();
        p.Add("QLowLower", lower);
        p.Add("QHighLower", lower + '\uffff');
        const string idPrefix = "(id >= @QLow AND id < @QHigh) OR (id >= @QLowLower AND id < @QHighLower)";
        if (q.Length < NameSearchMinimum) return ($"({idPrefix})", NameSearch.None);
        var escaped = q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
        var name = await dialect.NameClauseAsync(connection, q, escaped, p, SearchDriveLimit);
        var search = name.Match switch { NameMatch.Index => NameSearch.Index, NameMatch.Common => NameSearch.Common, _ => NameSearch.None };
        return ($"({idPrefix} OR {name.Sql})", search);
    }

    /// The ORDER BY for the filter's sort, from the whitelist only; every column then `pk`, in one direction, so an
    /// index serves the order and pages never overlap.
    public string OrderBy(RunFilter filter)
    {
        var direction = filter.Descending ? "DESC" : "ASC";
        return filter.Sort switch
        {
            RunSort.Status => $"status {direction}, created_at {direction}, pk {direction}",
            RunSort.Duration => dialect.DurationOrder(filter.Descending),
            _ => $"created_at {direction}, pk {direction}",
        };
    }

    /// Tenant, workflow and status only: the counters (`run_counts`) answer the total exactly.
    public static bool CountableFromCounters(RunFilter filter) => filter.Q is null && filter.From is null && filter.To is null;

    /// The page's SQL and its total's SQL: the total exact from `run_counts` when the counters can answer, otherwise
    /// counted up to the cap. `SearchedNewest`: the search window, when it left older runs unsearched. With a cursor the
    /// page is read from it (`Reversed`: read backwards from a `before` cursor, to be turned round), and `TailSql`, when
    /// set, reads the rest of the page in the other part of the duration sort once the cursor's part ran out
    /// (`@TailLimit` rows after `@TailOffset`). `HeadCountSql` counts the cursor's part after the cursor, up to `@Offset`
    /// rows: when a jump skips past that part's end, the rest of the skip falls in the tail.
    public sealed record ListQuery(string ItemsSql, string CountSql, bool CountIsCapped, DynamicParameters Parameters, int? SearchedNewest = null)
    {
        public string? TailSql { get; init; }
        public string? HeadCountSql { get; init; }
        public bool Reversed { get; init; }
    }

    /// What a page's rows read: the run table's columns (`RunRows.ListColumns`, the error message as far as the table
    /// shows it) or `/api/runs`'s items' (`RunRows.SummaryColumns`, the whole message).
    public enum Rows { Table, Summary }

    /// Public so a test can read the plans of what it builds. `skip`: rows to pass over from the cursor (a jump from a
    /// remembered place); without a cursor the filter's offset is skipped.
    public async Task<ListQuery> BuildAsync(IDbConnection connection, RunFilter filter, int skip = 0, Rows rows = Rows.Table)
    {
        var columns = rows == Rows.Summary ? RunRows.SummaryColumns : RunRows.ListColumns;
        var (where, p, search) = await WhereAsync(connection, filter, windowed: true);
        p.Add("Limit", filter.Limit);
        p.Add("Offset", filter.Cursor is null ? filter.Offset : skip);
        p.Add("CountCap", CountCap + 1);
        var (head, tail, readDescending) = Keyset(filter, p);
        var order = OrderBy(filter with { Descending = readDescending });
        // A searched page in another order than newest-first: the matches (bounded: trigram matches or the window)
        // are collected first and sorted, rather than the sort's index walked with each run's name looked up.
        string With(string? keyset) => keyset is null ? where : where.Length == 0 ? "WHERE " + keyset : where + " AND " + keyset;
        string Items(string? keyset, string limit, string offset)
        {
            var w = With(keyset);
            return search != NameSearch.None && filter.Sort != RunSort.Created
                ? $"WITH hits (hit) AS MATERIALIZED (SELECT pk FROM runs {w}) SELECT {columns} FROM hits CROSS JOIN runs ON runs.pk = hits.hit ORDER BY {order} LIMIT {limit} OFFSET {offset}"
                : $"SELECT {columns} FROM runs {w} ORDER BY {order} LIMIT {limit} OFFSET {offset}";
        }
        var items = Items(head, "@Limit", "@Offset");
        var tailSql = tail is null ? null : Items(tail, "@TailLimit", "@TailOffset");
        if (tailSql is not null)
        {
            // The reader lowers the limit to what the first part left, and raises the offset when a skip ran past it.
            p.Add("TailLimit", filter.Limit);
            p.Add("TailOffset", 0);
        }
        var headCountSql = tail is null ? null : $"SELECT COUNT(*) FROM (SELECT 1 FROM runs {With(head)} LIMIT @Offset) AS skipped";

        // The same clauses name columns run_counts has: tenant_id, workflow_name, status.
        var built = CountableFromCounters(filter)
            ? new ListQuery(items, $"SELECT COALESCE(SUM(n), 0) FROM run_counts {where}", false, p)
            : new ListQuery(items, $"SELECT COUNT(*) FROM (SELECT 1 FROM runs {where} LIMIT @CountCap) AS capped", true, p,
                search == NameSearch.CommonWindowed ? SearchWindow : null);
        return built with { TailSql = tailSql, HeadCountSql = headCountSql, Reversed = filter.Cursor?.Before == true };
    }

    /// The clause that starts the page at the filter's cursor, in the direction the page is read (a `before` cursor
    /// reads the list backwards), as a row-value comparison an index range serves. Runs without a duration come after
    /// all others in either duration order, so there a cursor reads its own part (with or without a duration) and,
    /// when the other part follows in reading order, names it as the tail.
    private static (string? Head, string? Tail, bool ReadDescending) Keyset(RunFilter filter, DynamicParameters p)
    {
        if (filter.Cursor is not { } cursor) return (null, null, filter.Descending);
        var readDescending = filter.Descending ^ cursor.Before;
        var op = readDescending ? "<" : ">";
        p.Add("KeyCreated", cursor.CreatedAt);
        p.Add("KeyPk", cursor.Pk);
        switch (filter.Sort)
        {
            case RunSort.Status:
                p.Add("KeyStatus", cursor.Status);
                return ($"(status, created_at, pk) {op} (@KeyStatus, @KeyCreated, @KeyPk)", null, readDescending);
            case RunSort.Duration when cursor.DurationMs is { } duration:
                p.Add("KeyDuration", duration);
                return ($"duration_ms IS NOT NULL AND (duration_ms, pk) {op} (@KeyDuration, @KeyPk)",
                    cursor.Before ? null : "duration_ms IS NULL", readDescending);
            case RunSort.Duration:
                return ($"duration_ms IS NULL AND pk {op} @KeyPk", cursor.Before ? "duration_ms IS NOT NULL" : null, readDescending);
            default:
                return ($"(created_at, pk) {op} (@KeyCreated, @KeyPk)", null, readDescending);
        }
    }
}
