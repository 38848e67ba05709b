using System.Data;
using System.Data.Common;
using Dapper;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Data;

/// Every statement or fragment that differs between SQLite and PostgreSQL. One implementation is chosen at
/// composition (`AddSqlDialect`), so no store asks which engine it runs on: it asks the dialect for the spelling.
public interface ISqlDialect
{
    /// `x IN @List` / `x NOT IN @List` as this engine takes a list parameter.
    string Lists(string sql);

    /// Appended to a read inside a write: the row stays locked to the end of the transaction, so writes to one
    /// run take turns whichever instance they come through (empty where one writer already serialises them).
    string ForUpdate { get; }

    /// Appended to a queue's pick: rows another transaction holds are passed over, not waited for.
    string SkipLocked { get; }

    /// A statement that makes writes naming the same `@LockKey` take turns to the end of their transaction (a count
    /// checked before an insert then holds); null where one writer serialises every write already.
    string? LockKey { get; }

    /// The list's ORDER BY for a sort by duration: runs without one last both ways, `pk` as the tie-break.
    string DurationOrder(bool descending);

    /// The name half of a search for `q` (three characters or more, LIKE-escaped as `escaped`), its parameters
    /// added to `p`; `driveLimit` bounds the index matches that may drive the query.
    Task<NameClause> NameClauseAsync(IDbConnection connection, string q, string escaped, DynamicParameters p, int driveLimit);

    /// A run's create as one statement (the run, its planned steps and errors, its `created` activity, its workflow's
    /// last sighting; `RunWrites.CreateAsync` gives the parameters), or null where each table takes its own statement.
    string? CreateRun { get; }

    /// Many runs' creates as one statement (`RunWrites.CreateManyAsync` gives the parameters, a column's values as one
    /// array), answering the tenant and id of each run inserted; null where creates are grouped by the write path already.
    /// `parts` names what the statement writes besides the runs, their steps and activity.
    string? CreateRuns(GroupParts parts);

    /// The stats cards' batch (totals of the period, the queue now, the oldest queued run) for one tenant or all.
    string Stats(bool allTenants);

    /// The admin page's usage by tenant and model, from the daily rollup.
    string UsageByTenantModel { get; }

    /// The admin page's slowest skills (`AdminStore.SlowestSkillsFor`): the steps of each recent run joined in that
    /// order, which each engine is told in its own way.
    string SlowestSkills { get; }

    /// Recomputes the counters and rollups from the runs (after a bulk load with the triggers off); null where the
    /// engine's migrations backfill them.
    string? RebuildDerived { get; }

    /// True where the engine keeps the name index itself on every insert (no `NameIndexer` pass).
    bool IndexesNamesOnWrite { get; }

    /// Where artifact bytes live: files beside the store, or rows every instance reads.
    IArtifactBytes ArtifactBytes(Database database);

    /// How writes reach the store: one writer with group commit, or concurrent transactions retried on conflicts.
    IWritePath WritePath(Database database);

    /// The case-insensitive LIKE of a log search: SQLite's LIKE folds ASCII case by itself; PostgreSQL's needs ILIKE.
    string LikeInsensitive { get; }

    /// Inserts a run's new log lines (`run_logs`) in the caller's transaction: many rows, one call.
    Task InsertLogsAsync(IDbConnection connection, IDbTransaction tx, IReadOnlyList<LogRow> rows);

    /// Before the migrations: the journal mode, or a lock a second instance waits on; disposed after them.
    Task<IAsyncDisposable> BeginMigrationsAsync(Database database, CancellationToken ct);
}

/// How a name search reads: `Index`, the matches drive the query; `Common`, the name filters runs read newest-first.
public enum NameMatch { None, Index, Common }

public sealed record NameClause(string Sql, NameMatch Match);

public static class SqlDialectRegistration
{
    /// The store's dialect (chosen with its engine, in `Database`'s constructor) and what it decides: artifact bytes.
    public static IServiceCollection AddSqlDialect(this IServiceCollection services, Database database) =>
        services.AddSingleton(database.Dialect).AddSingleton(database.Dialect.ArtifactBytes(database));
}

/// What a group's create statement (`ISqlDialect.CreateRuns`) writes besides the runs, their planned steps and their
/// `created` activity: each part left out is a table the statement does not open (`CreateGroups` chooses).
[Flags]
public enum GroupParts
{
    None = 0,
    /// Some run of the group reports errors.
    Errors = 1,
    /// The workflows' rows: inserted when missing, moved on to the group's newest run.
    Workflows = 2,
    All = Errors | Workflows,
}
