using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Runs;

/// SQLite indexes run names a few times a second after their inserts (migration 0008): a search must find a run
/// on either side of the indexer's mark, and whatever writes runs must leave the index exactly what the names say.
/// Each test stops the app's own indexer first and moves the mark itself, so which side a run is on is known.
public sealed class NameIndexerTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>, IAsyncLifetime
{
    private readonly HttpClient _client = factory.CreateClient();
    private Database Database => factory.Services.GetRequiredService<Database>();
    private NameIndexer Indexer => factory.Services.GetRequiredService<NameIndexer>();

    public async Task InitializeAsync()
    {
        await Indexer.StopAsync(CancellationToken.None);
        await CatchUpAsync(Indexer);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Search_FindsARunBeforeAndAfterTheIndexerReachesIt()
    {
        var id = await CreateAsync("Zebra crossing audit");
        Assert.True(await PkAsync(id) > await MarkAsync(), "the run should be past the mark while the indexer is stopped");
        Assert.Equal(0, await IndexedMatchesAsync("zebra crossing"));
        Assert.Equal([id], await SearchAsync("zebra cross"));

        Assert.Equal(1, await Indexer.IndexPassAsync());
        Assert.Equal(await PkAsync(id), await MarkAsync());
        Assert.Equal(1, await IndexedMatchesAsync("zebra crossing"));
        Assert.Equal([id], await SearchAsync("ZEBRA CROSS"));
        await AssertIndexMatchesRunsAsync(factory.Services);
    }

    [Fact]
    public async Task Search_FoldsCaseBeyondAscii_InTheIndexPastTheMarkAndForACommonName()
    {
        var id = await CreateAsync("Été Ärger Straße");
        Assert.True(await PkAsync(id) > await MarkAsync());
        Assert.Equal([id], await SearchAsync("ÉTÉ ärger"));

        Assert.Equal(1, await Indexer.IndexPassAsync());
        Assert.Equal([id], await SearchAsync("été ÄRGER STRAẞE"));
        // A name in more runs than the index may drive is matched by the pattern alone, read newest-first.
        Assert.Equal([id], await ClauseMatchesAsync("ÉTÉ äRGER", driveLimit: 0));
        Assert.Empty(await ClauseMatchesAsync("ete arger", driveLimit: 0));
    }

    private async Task<string[]> ClauseMatchesAsync(string q, int driveLimit)
    {
        await using var connection = await Database.OpenAsync();
        var p = new DynamicParameters();
        // The searches here have no character LIKE escapes.
        var clause = await factory.Services.GetRequiredService<ISqlDialect>().NameClauseAsync(connection, q, q, p, driveLimit);
        return (await connection.QueryAsync<string>($"SELECT id FROM runs WHERE {clause.Sql}", p)).ToArray();
    }

    [Fact]
    public async Task Search_WhenTheIndexerPassesBetweenItsTwoReads_StillFindsTheRun()
    {
        // A search reads the index's matches, then the runs; an indexer pass in between moves the run from the
        // unindexed tail into the index after its matches were taken. It must be found on one side or the other.
        var id = await CreateAsync("Tapir between reads");
        Assert.True(await PkAsync(id) > await MarkAsync());
        await using var connection = await Database.OpenAsync();
        var p = new DynamicParameters();
        var clause = await factory.Services.GetRequiredService<ISqlDialect>().NameClauseAsync(connection, "tapir betw", "tapir betw", p, 100);

        Assert.Equal(1, await Indexer.IndexPassAsync());

        Assert.Equal([id], await connection.QueryAsync<string>($"SELECT id FROM runs WHERE {clause.Sql}", p));
    }

    [Fact]
    public async Task OnePass_IndexesABatchAtMost_AndTheNextPassTheRest()
    {
        // A pass's batch counts runs past the mark; the runs are written straight to the store to reach it quickly.
        var before = await MarkAsync();
        await Database.WriteAsync((c, tx) => c.ExecuteAsync("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @Count)
            INSERT INTO runs (id, tenant_id, workflow_name, name, status, created_at, updated_at)
            SELECT 'batch-' || i, 'default', 'wf-batch', 'Batch yak ' || i, 'queued', '2026-11-21T12:00:00.000Z', '2026-11-21T12:00:00.000Z' FROM n
            """, new { Count = NameIndexer.BatchSize + 5 }, tx));
        Assert.Equal(NameIndexer.BatchSize, await Indexer.IndexPassAsync());
        Assert.Equal(5, await Indexer.IndexPassAsync());
        Assert.Equal(0, await Indexer.IndexPassAsync());
        Assert.Equal(NameIndexer.BatchSize + 5, await IndexedMatchesAsync("batch yak"));
        Assert.True(await MarkAsync() > before);
        await AssertIndexMatchesRunsAsync(factory.Services);
    }

    [Fact]
    public async Task RenamesAndDeletes_OnEitherSideOfTheMark_KeepTheIndexExact()
    {
        var indexedRenamed = await CreateAsync("Okapi morning batch");
        var indexedDeleted = await CreateAsync("Okapi evening batch");
        await CatchUpAsync(Indexer);
        var pendingRenamed = await CreateAsync("Okapi noon batch");
        var pendingDeleted = await CreateAsync("Okapi night batch");
        Assert.True(await PkAsync(pendingRenamed) > await MarkAsync());

        // No route renames or deletes one run; the store's triggers must still hold when anything does.
        await Database.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("UPDATE runs SET name = 'Narwhal sunrise' WHERE id = @Id", new { Id = indexedRenamed }, tx);
            await c.ExecuteAsync("UPDATE runs SET name = 'Narwhal sunset' WHERE id = @Id", new { Id = pendingRenamed }, tx);
            await c.ExecuteAsync(c.Lists("DELETE FROM runs WHERE id IN @Ids"), new { Ids = new[] { indexedDeleted, pendingDeleted } }, tx);
            return 0;
        });

        Assert.Empty(await SearchAsync("okapi"));
        Assert.Equal(new[] { indexedRenamed, pendingRenamed }.Order(), (await SearchAsync("narwhal")).Order());
        Assert.Equal(0, await IndexedMatchesAsync("okapi"));
        await AssertIndexMatchesRunsAsync(factory.Services);
        Assert.Equal(new[] { indexedRenamed, pendingRenamed }.Order(), (await SearchAsync("narwhal")).Order());
        Assert.Equal(2, await IndexedMatchesAsync("narwhal"));
    }

    [Fact]
    public async Task ARunGivenTheNumberOfADeletedNewestRun_IsIndexedAtOnce()
    {
        // SQLite numbers a new row one past the largest: once the newest runs are deleted, a number at or below
        // the mark comes round again, and nothing would ever index that run if its insert left it to the indexer.
        var newest = await CreateAsync("Quokka first");
        await CatchUpAsync(Indexer);
        var pk = await PkAsync(newest);
        await Database.WriteAsync((c, tx) => c.ExecuteAsync("DELETE FROM runs WHERE id = @Id", new { Id = newest }, tx));

        var again = await CreateAsync("Quokka second");
        Assert.Equal(pk, await PkAsync(again));
        Assert.True(pk <= await MarkAsync());
        Assert.Equal(1, await IndexedMatchesAsync("quokka second"));
        Assert.Equal(0, await IndexedMatchesAsync("quokka first"));
        Assert.Equal([again], await SearchAsync("quokka"));
        Assert.Equal(0, await Indexer.IndexPassAsync());
        await AssertIndexMatchesRunsAsync(factory.Services);
    }

    /// Brings the index up to the newest run, then has FTS5 compare it with the names in `runs` (integrity-check
    /// with rank 1 reads the external content too): any entry missing, extra or with another name fails it.
    internal static async Task AssertIndexMatchesRunsAsync(IServiceProvider services)
    {
        await CatchUpAsync(services.GetRequiredService<NameIndexer>());
        await using var connection = await services.GetRequiredService<Database>().OpenAsync();
        await connection.ExecuteAsync("INSERT INTO runs_name_fts (runs_name_fts, rank) VALUES ('integrity-check', 1)");
        Assert.Equal(await connection.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(pk), 0) FROM runs"),
            await connection.ExecuteScalarAsync<long>("SELECT indexed_through FROM runs_name_fts_mark"));
    }

    private static async Task CatchUpAsync(NameIndexer indexer)
    {
        while (await indexer.IndexPassAsync() > 0) { }
    }

    private async Task<string> CreateAsync(string name) =>
        (await _client.CreateRunAsync(new { workflowName = "wf-names", name })).GetProperty("id").GetString()!;

    private async Task<IReadOnlyList<string>> SearchAsync(string q)
    {
        var document = await _client.GetDocumentAsync($"/ui/runs/list?q={Uri.EscapeDataString(q)}");
        return document.QuerySelectorAll("table.runs-table tbody tr[data-run-id]").Select(tr => tr.GetAttribute("data-run-id")!).ToList();
    }

    private async Task<long> ScalarAsync(string sql, object? parameters = null)
    {
        await using var connection = await Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    private Task<long> PkAsync(string id) => ScalarAsync("SELECT pk FROM runs WHERE id = @Id", new { Id = id });

    private Task<long> MarkAsync() => ScalarAsync("SELECT indexed_through FROM runs_name_fts_mark");

    private Task<long> IndexedMatchesAsync(string phrase) =>
        ScalarAsync("SELECT COUNT(*) FROM runs_name_fts WHERE runs_name_fts MATCH @Q", new { Q = "\"" + phrase + "\"" });
}
