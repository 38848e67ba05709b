using System.Data;
using Npgsql;

namespace RunMonitor.Web.Data;

/// Where SQLite and PostgreSQL need different SQL, the statement is chosen by the connection it runs on.
public static class Dialect
{
    public static bool IsPostgres(this IDbConnection connection) => connection is NpgsqlConnection;

    /// Appended to a SELECT inside a write: PostgreSQL locks the rows read, so the read-check-write that
    /// follows cannot race a write through another connection or instance. SQLite's one writer needs no lock.
    public static string ForUpdate(this IDbConnection connection) => connection.IsPostgres() ? " FOR UPDATE" : "";

    /// For a queue read by several instances: rows another transaction holds are passed over, not waited for.
    public static string ForUpdateSkipLocked(this IDbConnection connection) => connection.IsPostgres() ? " FOR UPDATE SKIP LOCKED" : "";
}
