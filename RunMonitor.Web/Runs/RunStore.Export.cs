using System.Runtime.CompilerServices;
using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// The export: every run matching a filter (no paging), streamed row by row up to a cap.
public sealed partial class RunStore
{
    public async Task<long> CountAsync(RunFilter filter, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var (where, p, _) = await BuildWhereAsync(connection, filter);
        // Exact either way: from the counters when they can answer, else counted (an export is rare, not a hot path).
        var table = CountableFromCounters(filter) ? "SELECT COALESCE(SUM(n), 0) FROM run_counts " : "SELECT COUNT(*) FROM runs ";
        return await connection.ExecuteScalarAsync<long>(table + where, p);
    }

    /// Rows in the filter's sort order, read one at a time so memory stays flat however many there are.
    public async IAsyncEnumerable<RunRow> StreamAsync(RunFilter filter, int maxRows, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var (where, p, _) = await BuildWhereAsync(connection, filter);
        p.Add("Limit", maxRows);
        var sql = $"SELECT {ExportColumns} FROM runs {where} ORDER BY {OrderBy(filter, connection.IsPostgres())} LIMIT @Limit";
        await foreach (var row in connection.QueryUnbufferedAsync<RunRow>(sql, p).WithCancellation(ct))
            yield return row;
    }
}
