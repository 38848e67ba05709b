using System.Data;
using Dapper;
using Microsoft.Extensions.Options;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// A run's log lines: appended inside a run write (`RunService.AppendLogsInTransactionAsync`), read in pages by seq.
/// Lines hang off the run's row number (`runs.pk`), so a read names its run once and a line carries no tenant or id.
public sealed class LogStore(Database database, ISqlDialect dialect, IOptions<LogOptions> options)
{
    public int MaxLinesPerRun => Math.Max(0, options.Value.MaxLinesPerRun);

    private const string SelectRunPk = "SELECT pk FROM runs WHERE tenant_id = @TenantId AND id = @Id";

    private const string SelectCounts = """
        SELECT lines AS Lines, dropped AS Dropped, first_error AS FirstError FROM run_log_counts WHERE run_pk = @RunPk
        """;

    private const string UpsertCounts = """
        INSERT INTO run_log_counts (run_pk, lines, dropped, first_error) VALUES (@RunPk, @Lines, @Dropped, @FirstError)
        ON CONFLICT (run_pk) DO UPDATE SET lines = excluded.lines, dropped = excluded.dropped, first_error = excluded.first_error
        """;

    /// Appends `lines` to the run in the caller's transaction, which holds the run (its row lock on PostgreSQL, the one
    /// writer on SQLite), so seqs are given out once each. Past the cap, lines are counted as dropped.
    public async Task<LogAppend> AppendAsync(IDbConnection connection, IDbTransaction tx, RunRow run, IReadOnlyList<LogLineIn> lines, DateTimeOffset now)
    {
        var runPk = await connection.QuerySingleOrDefaultPreparedAsync<long>(SelectRunPk, new { run.TenantId, run.Id }, tx);
        var counts = await connection.QuerySingleOrDefaultPreparedAsync<LogCounts>(SelectCounts, new { RunPk = runPk }, tx) ?? LogCounts.None;
        var room = (int)Math.Clamp(MaxLinesPerRun - counts.Lines, 0, lines.Count);
        var received = now.ToUnixTimeMilliseconds();
        var rows = new List<LogRow>(room);
        var firstError = counts.FirstError;
        for (var i = 0; i < room; i++)
        {
            var line = lines[i];
            var (message, cut) = LogRow.Keep(line.Message);
            var seq = counts.Lines + i + 1;
            if (line.Level == LogLevels.Error) firstError ??= seq;
            rows.Add(new LogRow
            {
                RunPk = runPk, Seq = seq, Ts = line.Ts?.ToUnixTimeMilliseconds() ?? received, Level = line.Level,
                StepId = line.StepId, Message = message, Fields = line.Fields, Cut = cut,
            });
        }
        if (rows.Count > 0) await dialect.InsertLogsAsync(connection, tx, rows);
        var dropped = lines.Count - room;
        if (rows.Count > 0 || dropped > 0)
        {
            await connection.ExecutePreparedAsync(UpsertCounts,
                new { RunPk = runPk, Lines = counts.Lines + room, Dropped = counts.Dropped + dropped, FirstError = firstError }, tx);
        }
        return new LogAppend(run.Id, run.TenantId, room, dropped, counts.Lines + room);
    }

    private const string SelectCountsOfRun = """
        SELECT c.lines AS Lines, c.dropped AS Dropped, c.first_error AS FirstError
        FROM run_log_counts c JOIN runs r ON r.pk = c.run_pk WHERE r.tenant_id = @TenantId AND r.id = @Id
        """;

    public async Task<LogCounts> CountsAsync(RunRow run, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<LogCounts>(new CommandDefinition(SelectCountsOfRun, new { run.TenantId, run.Id }, cancellationToken: ct))
               ?? LogCounts.None;
    }

    // The run's row number is read by the statement itself (one round trip); the filters follow the primary key's order.
    private const string SelectLines = """
        SELECT seq AS Seq, ts AS Ts, level AS Level, step_id AS StepId, message AS Message, fields AS Fields, cut AS Cut
        FROM run_logs
        WHERE run_pk = (SELECT pk FROM runs WHERE tenant_id = @TenantId AND id = @Id) AND seq > @After AND seq < @Before
          {0}
        ORDER BY seq {1}
        LIMIT @Take
        """;

    // The lines a filter matches and the first error among them, in one pass over the run's lines ({0}: the filter's
    // clauses). A tail read asks it when the run's counts do not say it (a step's lines, a level or a text).
    private const string SelectMatch = """
        SELECT COUNT(*) AS Lines, MIN(CASE WHEN level >= 4 THEN seq END) AS FirstError
        FROM run_logs
        WHERE run_pk = (SELECT pk FROM runs WHERE tenant_id = @TenantId AND id = @Id)
          {0}
        """;

    /// A page of the run's lines matching `filter`: after `After` in order; or, without `After`, the last lines (before
    /// `Before` when given), still returned in order. One line more than the page is read to know whether more follow.
    public async Task<LogPage> ReadAsync(RunRow run, LogFilter filter, CancellationToken ct = default)
    {
        var fromEnd = filter.After is null;
        var (shape, p) = Select(run, filter, fromEnd ? 0 : filter.After!.Value, filter.Before ?? long.MaxValue, filter.Limit + 1, descending: fromEnd);
        var match = Counted(filter, filter.Step is not null);
        await using var connection = await database.OpenAsync(ct);
        // The lines and the run's counts in one batch: one round trip on PostgreSQL.
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(match ? _shapes[shape].WithMatch : _shapes[shape].WithCounts, p, cancellationToken: ct));
        return await ReadPageAsync(results, filter);
    }

    // A tail read of a step's lines or of a narrowed filter counts its lines (the run's counts say the rest's).
    private static bool Counted(LogFilter filter, bool step) => filter.After is null && filter.Before is null && (step || filter.NarrowsLines);

    /// A log panel's first page (the last lines matching `filter`, the run's counts, and for a step's panel or a narrowed
    /// filter the lines it matches) as statements of a caller's batch that reads the run in the same round trip: the
    /// run is named by `@TenantId` and `@Id`, and a step's panel names its step by `stepSql` (SQL: a parameter or a
    /// subquery) instead of `filter.Step`. The statements' other values are `PanelParameters`' (a page from the end,
    /// and the filter's level and text under fixed names, so a batch holds one filtered panel). `ReadPageAsync` reads
    /// the answer (`step`: for a step's panel).
    public string PanelStatements(LogFilter filter, string? stepSql)
    {
        if (filter.After is not null || filter.Before is not null || filter.Limit != LogFilter.DefaultLimit)
            throw new ArgumentException("a panel opens on the last lines of the default page", nameof(filter));
        var shape = _shapes[Shape(filter, step: stepSql is not null, descending: true)];
        var statements = Counted(filter, stepSql is not null) ? shape.WithMatch : shape.WithCounts;
        return stepSql is null ? statements : statements.Replace("@Step", stepSql, StringComparison.Ordinal);
    }

    /// The values of `PanelStatements`' statements for a panel of `filter` of the run `tenantId`/`id`, but the step.
    public static LogParameters PanelParameters(string? tenantId, string id, LogFilter filter) => Values(tenantId, id, filter, 0, long.MaxValue, filter.Limit + 1);

    /// The page `ReadAsync` or `PanelStatements` answered: its lines, the run's counts, and for a tail read of a step
    /// (`step`: the panel's step named by SQL) or a narrowed filter the lines it matches.
    public static async Task<LogPage> ReadPageAsync(SqlMapper.GridReader results, LogFilter filter, bool step = false)
    {
        var fromEnd = filter.After is null;
        var rows = (await results.ReadAsync<LogRow>()).AsList();
        var more = rows.Count > filter.Limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        if (fromEnd) rows.Reverse();
        var counts = await results.ReadSingleOrDefaultAsync<LogCounts>() ?? LogCounts.None;
        // A counted tail read answers a third result; a view of every line of the run matches what its counts say.
        var match = Counted(filter, step || filter.Step is not null) ? await results.ReadSingleAsync<LogMatch>()
            : filter.Step is null && !step && !filter.NarrowsLines ? new LogMatch { Lines = counts.Lines, FirstError = counts.FirstError } : null;
        return fromEnd
            ? new LogPage(rows, null, more && rows.Count > 0 ? rows[0].Seq : null, counts) { Match = match }
            : new LogPage(rows, more && rows.Count > 0 ? rows[^1].Seq : null, null, counts) { Match = match };
    }

    /// Every matching line in order, between the filter's `after` and `before` when it has them, read a chunk at a time
    /// (the download streams them; memory holds one chunk). The filter's `limit` is a page's, not read here.
    public async IAsyncEnumerable<LogRow> StreamAsync(RunRow run, LogFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        const int chunk = 5000;
        var after = filter.After ?? 0;
        var before = filter.Before ?? long.MaxValue;
        while (true)
        {
            var (shape, p) = Select(run, filter, after, before, chunk, descending: false);
            List<LogRow> rows;
            await using (var connection = await database.OpenAsync(ct))
                rows = (await connection.QueryAsync<LogRow>(new CommandDefinition(_shapes[shape].Lines, p, cancellationToken: ct))).AsList();
            foreach (var row in rows) yield return row;
            if (rows.Count < chunk) yield break;
            after = rows[^1].Seq;
        }
    }

    private readonly (string Lines, string WithCounts, string WithMatch)[] _shapes = BuildShapes(dialect.LikeInsensitive);

    // The statement for each combination of filters (8) and direction (2), built once: SQL text is never built from
    // values. Each alone (the download's chunks), followed by the run's counts (a page of a panel, in one batch), and
    // by those and the lines the filter matches (a tail read that counts them).
    private static (string Lines, string WithCounts, string WithMatch)[] BuildShapes(string like)
    {
        var shapes = new (string, string, string)[16];
        for (var i = 0; i < 16; i++)
        {
            var clauses = "";
            if ((i & 1) != 0) clauses += " AND step_id = @Step";
            if ((i & 2) != 0) clauses += " AND level >= @MinLevel";
            if ((i & 4) != 0) clauses += " AND message " + like + " @QLike ESCAPE '\\'";
            var lines = StepNamed(i, string.Format(System.Globalization.CultureInfo.InvariantCulture, SelectLines, clauses, (i & 8) != 0 ? "DESC" : "ASC"));
            var withCounts = lines + ";\n" + SelectCountsOfRun;
            shapes[i] = (lines, withCounts, withCounts + ";\n" + StepNamed(i, string.Format(System.Globalization.CultureInfo.InvariantCulture, SelectMatch, clauses)));
        }
        return shapes;
    }

    private const string RunPk = "(SELECT pk FROM runs WHERE tenant_id = @TenantId AND id = @Id)";

    // A step's statement finds the run only when a step is named: the run page's step panel, for a run with no failed
    // step to open, names none, and its lines and count then read no line (`step_id = NULL` alone matches none but
    // was tested against each of the run's lines: 10 ms for 100,000 on every such run page).
    private static string StepNamed(int shape, string sql) =>
        (shape & 1) == 0 ? sql : sql.Replace(RunPk, RunPk[..^1] + " AND @Step IS NOT NULL)", StringComparison.Ordinal);

    // The statement's shape (an index into `_shapes`) and its parameters.
    private static (int Shape, LogParameters Parameters) Select(RunRow run, LogFilter filter, long after, long before, int take, bool descending) =>
        (Shape(filter, step: filter.Step is not null, descending), Values(run.TenantId, run.Id, filter, after, before, take) with { Step = filter.Step });

    private static int Shape(LogFilter filter, bool step, bool descending) =>
        (step ? 1 : 0) | (filter.MinLevel > LogLevels.Trace ? 2 : 0) | (filter.Q is null ? 0 : 4) | (descending ? 8 : 0);

    private static LogParameters Values(string? tenantId, string id, LogFilter filter, long after, long before, int take) =>
        new(tenantId, id, after, before, take)
        {
            MinLevel = filter.MinLevel > LogLevels.Trace ? filter.MinLevel : null,
            QLike = filter.Q is null ? null : "%" + filter.Q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%",
        };
}

/// A log statement's values under the names its shape uses (Dapper binds the names the statement holds). A class of
/// properties, not `DynamicParameters`: Dapper asks each of those for its `DbType`, which Npgsql infers anew every time.
public record LogParameters(string? TenantId, string Id, long After, long Before, int Take)
{
    public string? Step { get; init; }
    public int? MinLevel { get; init; }
    public string? QLike { get; init; }
}
