using System.Data;
using Npgsql;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests;

/// Tests that write SQL by hand on a connection of either engine take the list spelling of the connection's dialect.
public static class TestDialect
{
    public static ISqlDialect Of(IDbConnection connection) => connection is NpgsqlConnection ? PostgresDialect.Instance : SqliteDialect.Instance;

    public static string Lists(this IDbConnection connection, string sql) => Of(connection).Lists(sql);
}
