using Dapper;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// SQLite: takes the runs written since its last pass into the trigram index of names, in one transaction, and
/// moves the mark `runs_name_fts_mark.indexed_through` past them (migration 0008). Ingest's own transactions leave
/// the index alone: FTS5 writes each transaction's additions as a segment of its own, which in a few runs' commits
/// cost more than the rest of the insert. A search reads the runs past the mark by name itself (SqliteDialect), so what
/// the indexer has not reached yet is still found; its pace only bounds how many names that is.
public sealed class NameIndexer(Database database, ISqlDialect dialect, ILogger<NameIndexer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// Runs indexed by one transaction at most, so a pass holds the one writer path briefly.
    public const int BatchSize = 2_000;

    /// Every run's name into the index at once (after a bulk load without triggers), the mark past the last run.
    public const string RebuildAll = """
        INSERT INTO runs_name_fts (runs_name_fts) VALUES ('rebuild');
        UPDATE runs_name_fts_mark SET indexed_through = COALESCE((SELECT MAX(pk) FROM runs), 0) WHERE id = 1;
        """;

    /// The runs past the mark, read by a search beside the index (a range of the rowid, then their names).
    private const string Unindexed = "pk > (SELECT indexed_through FROM runs_name_fts_mark WHERE id = 1)";

    private const string Behind = $"SELECT EXISTS (SELECT 1 FROM runs WHERE {Unindexed})";

    /// How far the index reaches: every run up to this pk is in it.
    public const string SelectMark = "SELECT indexed_through FROM runs_name_fts_mark WHERE id = 1";

    private const string SelectBatch = "SELECT COUNT(*) AS Runs, MAX(pk) AS Through FROM (SELECT pk FROM runs WHERE pk > @Mark ORDER BY pk LIMIT @Batch)";

    private const string IndexRange = """
        INSERT INTO runs_name_fts (rowid, name) SELECT pk, name FROM runs WHERE pk > @Mark AND pk <= @Through AND name IS NOT NULL;
        UPDATE runs_name_fts_mark SET indexed_through = @Through WHERE id = 1;
        """;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (dialect.IndexesNamesOnWrite) return;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                while (await IndexPassAsync(stoppingToken) == BatchSize) { }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Indexing run names failed; a search still finds them, and the next pass tries again");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    /// One pass: up to BatchSize runs past the mark into the index. Returns how many runs the mark moved over.
    public async Task<int> IndexPassAsync(CancellationToken ct = default)
    {
        // Asked on a reader first, so an idle store never takes the writer path.
        await using (var reader = await database.OpenAsync(ct))
            if (!await reader.ExecuteScalarAsync<bool>(Behind)) return 0;
        return await database.WriteAsync(async (connection, tx) =>
        {
            var mark = await connection.ExecuteScalarAsync<long>(SelectMark, transaction: tx);
            var (runs, through) = await connection.QuerySingleAsync<(int Runs, long? Through)>(SelectBatch, new { Mark = mark, Batch = BatchSize }, tx);
            if (through is null) return 0;
            await connection.ExecuteAsync(IndexRange, new { Mark = mark, Through = through }, tx);
            return runs;
        }, ct);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }
}
