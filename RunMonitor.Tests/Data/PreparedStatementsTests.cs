using Dapper;
using Microsoft.Data.Sqlite;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Data;

public sealed class PreparedStatementsTests : IDisposable
{
    private const string Insert = "INSERT INTO t (id, name, size) VALUES (@Id, @Name, @Size)";
    private readonly SqliteConnection _connection = new("Data Source=:memory:");

    public PreparedStatementsTests()
    {
        _connection.Open();
        _connection.Execute("CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT, size INTEGER)");
    }

    public void Dispose()
    {
        PreparedStatements.Forget(_connection);
        _connection.Dispose();
    }

    private sealed record Row(string Id, string? Name, long? Size);

    [Fact]
    public async Task ExecutePreparedAsync_KeptConnection_OneCommandPerSqlAndEveryValueBound()
    {
        PreparedStatements.Keep(_connection);

        await _connection.ExecutePreparedAsync(Insert, new Row("a", "first", 1), null);
        await _connection.ExecutePreparedAsync(Insert, new Row("b", null, null), null);
        // Another type for the same text, its names in another case, as Dapper allows.
        await _connection.ExecutePreparedAsync(Insert, new { id = "c", name = "third", size = 3 }, null);

        Assert.Equal(1, PreparedStatements.KeptCount(_connection));
        var rows = (await _connection.QueryAsync<Row>("SELECT id AS Id, name AS Name, size AS Size FROM t ORDER BY id")).ToArray();
        Assert.Equal([new Row("a", "first", 1), new Row("b", null, null), new Row("c", "third", 3)], rows);
    }

    [Fact]
    public async Task ExecutePreparedAsync_Sequence_RunsOncePerElementAndSumsTheRows()
    {
        PreparedStatements.Keep(_connection);

        var changed = await _connection.ExecutePreparedAsync(Insert, new[] { new Row("a", "x", 1), new Row("b", "y", 2) }, null);

        Assert.Equal(2, changed);
        Assert.Equal(2, await _connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t"));
    }

    [Fact]
    public async Task ExecutePreparedAsync_ParameterTheObjectLacks_SaysWhichOne()
    {
        PreparedStatements.Keep(_connection);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _connection.ExecutePreparedAsync(Insert, new { Id = "a", Name = "n" }, null));

        Assert.Contains("@Size", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ExecutePreparedAsync_ExtraParameter_GuardsTheUpdate(bool kept)
    {
        if (kept) PreparedStatements.Keep(_connection);
        await _connection.ExecutePreparedAsync(Insert, new Row("a", "first", 1), null);
        const string guarded = "UPDATE t SET name = @Name, size = @Size WHERE id = @Id AND name = @Expected";

        var stale = await _connection.ExecutePreparedAsync(guarded, new Row("a", "second", 2), ("Expected", "other"), null);
        var current = await _connection.ExecutePreparedAsync(guarded, new Row("a", "second", 2), ("Expected", "first"), null);

        Assert.Equal((0, 1), (stale, current));
        Assert.Equal("second", await _connection.ExecuteScalarAsync<string>("SELECT name FROM t WHERE id = 'a'"));
    }

    [Fact]
    public async Task ExecutePreparedAsync_ConnectionNotKept_RunsThroughDapperAndKeepsNothing()
    {
        await _connection.ExecutePreparedAsync(Insert, new Row("a", "first", 1), null);

        Assert.Equal(0, PreparedStatements.KeptCount(_connection));
        Assert.Equal("first", await _connection.ExecuteScalarAsync<string>("SELECT name FROM t WHERE id = 'a'"));
    }

    [Fact]
    public async Task QuerySingleOrDefaultPreparedAsync_KeptConnection_RowNoneOrRefusesTwo()
    {
        PreparedStatements.Keep(_connection);
        await _connection.ExecutePreparedAsync(Insert, new[] { new Row("a", "same", 1), new Row("b", "same", 2) }, null);
        const string byName = "SELECT id AS Id, name AS Name, size AS Size FROM t WHERE name = @Name";

        var one = await _connection.QuerySingleOrDefaultPreparedAsync<Row>("SELECT id AS Id, name AS Name, size AS Size FROM t WHERE id = @Id", new { Id = "b" }, null);
        var none = await _connection.QuerySingleOrDefaultPreparedAsync<Row>(byName, new { Name = "other" }, null);
        var scalar = await _connection.QuerySingleOrDefaultPreparedAsync<long>("SELECT COUNT(*) FROM t WHERE name = @Name", new { Name = "same" }, null);

        Assert.Equal(new Row("b", "same", 2), one);
        Assert.Null(none);
        Assert.Equal(2, scalar);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _connection.QuerySingleOrDefaultPreparedAsync<Row>(byName, new { Name = "same" }, null));
    }

    [Fact]
    public async Task Forget_DisposesTheKeptCommands_ConnectionGoesBackToDapper()
    {
        PreparedStatements.Keep(_connection);
        await _connection.ExecutePreparedAsync(Insert, new Row("a", "first", 1), null);

        PreparedStatements.Forget(_connection);
        await _connection.ExecutePreparedAsync(Insert, new Row("b", "second", 2), null);

        Assert.Equal(0, PreparedStatements.KeptCount(_connection));
        Assert.Equal(2, await _connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM t"));
    }
}
