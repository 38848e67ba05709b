using System.Runtime.CompilerServices;
using Dapper;

namespace RunMonitor.Web.Runs;

/// The export: every run matching a filter (no paging), streamed row by row up to a cap.
public sealed partial class RunStore
{
    public async Task<long> CountAsync(RunFilter filter, CancellationToken ct = default)
    {
        var (where, p) = BuildWhere(filter);
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs " + where, p);
    }

    /// Rows in the filter's sort order, read one at a time so memory stays flat however many there are.
    public async IAsyncEnumerable<RunRow> StreamAsync(RunFilter filter, int maxRows, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var (where, p) = BuildWhere(filter);
        p.Add("Limit", maxRows);
        var sql = $"SELECT {ListColumns} FROM runs {where} ORDER BY {OrderBy(filter)} LIMIT @Limit";
        await using var connection = await database.OpenAsync(ct);
        await foreach (var row in connection.QueryUnbufferedAsync<RunRow>(sql, p).WithCancellation(ct))
            yield return row;
    }
}
