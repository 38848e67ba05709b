using Npgsql;
using RunMonitor.Tests.Infrastructure;

namespace RunMonitor.Tests.Data;

public sealed class PostgresServerTests
{
    [Fact]
    public void CreateDatabase_GivesAnEmptyDatabaseOfItsOwn_ThatDropDatabaseRemoves()
    {
        var first = PostgresServer.CreateDatabase();
        var second = PostgresServer.CreateDatabase();
        Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Database, new NpgsqlConnectionStringBuilder(second).Database);
        using (var connection = new NpgsqlConnection(first))
        {
            connection.Open();
            using var command = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", connection);
            Assert.Equal(0L, (long)command.ExecuteScalar()!);
        }
        PostgresServer.DropDatabase(first);
        PostgresServer.DropDatabase(second);
        using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        admin.Open();
        using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", admin);
        exists.Parameters.AddWithValue("name", new NpgsqlConnectionStringBuilder(first).Database!);
        Assert.Equal(0L, (long)exists.ExecuteScalar()!);
    }
}
