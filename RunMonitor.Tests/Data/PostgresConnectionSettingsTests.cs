using Npgsql;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

/// What the store adds to a PostgreSQL connection string, and that the string's own word wins.
public sealed class PostgresConnectionSettingsTests
{
    private static NpgsqlConnectionStringBuilder Effective(string setting)
    {
        using var database = Database.FromSetting(setting, "/");
        return new NpgsqlConnectionStringBuilder(database.ConnectionString);
    }

    [Fact]
    public void FromSetting_NothingSaid_PreparesStatementsAndSkipsTheSessionReset()
    {
        var effective = Effective("Host=127.0.0.1;Port=5432;Database=store;Username=app");

        Assert.True(effective.NoResetOnClose);
        Assert.Equal(64, effective.MaxAutoPrepare);
    }

    [Theory]
    [InlineData("No Reset On Close=false")]
    [InlineData("NoResetOnClose=false")]
    public void FromSetting_ResetAskedFor_KeepsIt(string words)
    {
        Assert.False(Effective("Host=127.0.0.1;Port=5432;Database=store;Username=app;" + words).NoResetOnClose);
    }
}
