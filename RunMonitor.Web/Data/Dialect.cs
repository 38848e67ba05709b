using System.Collections.Concurrent;
using System.Data;
using System.Text.RegularExpressions;
using Npgsql;

namespace RunMonitor.Web.Data;

/// Where SQLite and PostgreSQL need different SQL, the statement is chosen by the connection it runs on.
public static partial class Dialect
{
    public static bool IsPostgres(this IDbConnection connection) => connection is NpgsqlConnection;

    /// For a queue read by several instances: rows another transaction holds are passed over, not waited for.
    public static string ForUpdateSkipLocked(this IDbConnection connection) => connection.IsPostgres() ? " FOR UPDATE SKIP LOCKED" : "";

    private static readonly ConcurrentDictionary<string, string> ArrayLists = new();

    /// Dapper expands `x IN @List` into one parameter per item for SQLite; to Npgsql it passes the list as one
    /// array parameter, which PostgreSQL compares with `= ANY(@List)` (and `NOT IN` with `<> ALL(@List)`).
    public static string Lists(this IDbConnection connection, string sql) =>
        connection.IsPostgres() ? ArrayLists.GetOrAdd(sql, s => InList().Replace(s, m => m.Groups[1].Success ? $"<> ALL({m.Groups[2].Value})" : $"= ANY({m.Groups[2].Value})")) : sql;

    [GeneratedRegex(@"\b(NOT\s+)?IN\s+(@\w+)", RegexOptions.CultureInvariant)]
    private static partial Regex InList();
}
