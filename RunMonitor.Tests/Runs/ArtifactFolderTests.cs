using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Runs;

/// Stores side by side: two SQLite databases in one folder each keep their artifact bytes apart (`ArtifactFolder`), so
/// one's retention never deletes bytes the other still lists; a folder from before the owner's marker keeps serving.
public sealed class ArtifactFolderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "runmonitor-tests", "shared-" + Guid.NewGuid().ToString("N"));
    private readonly List<RunMonitorFactory> _stores = [];

    /// The app on `<shared folder>/<file>`, keeping finished runs one day.
    private sealed class StoreInFolder(string databasePath) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RunMonitor:Database"] = databasePath,
            ["RunMonitor:RetentionDays"] = "1",
        };
    }

    private sealed class PostgresStore() : RunMonitorFactory(TestStore.Postgres)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RunMonitor:RetentionDays"] = "1" };
    }

    public ArtifactFolderTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        foreach (var store in _stores) store.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private T Start<T>(T store) where T : RunMonitorFactory
    {
        _stores.Add(store);
        _ = store.CreateClient();
        return store;
    }

    private RunMonitorFactory Start(string file) => Start(new StoreInFolder(Path.Combine(_folder, file)));

    private void Stop(RunMonitorFactory store)
    {
        _stores.Remove(store);
        store.Dispose();
    }

    private static async Task<string> UploadToFinishedRunAsync(RunMonitorFactory store, string runId, params byte[][] files)
    {
        var client = store.CreateClient();
        if (await client.GetAsync($"/api/runs/{runId}") is { StatusCode: HttpStatusCode.NotFound })
            await client.CreateRunAsync(new { id = runId, workflowName = "wf", status = "completed", steps = new[] { new { stepId = "s1" } } });
        string id = "";
        foreach (var data in files)
        {
            var response = await client.PostAsync($"/api/runs/{runId}/steps/s1/artifacts?name=out.bin", new ByteArrayContent(data));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            id = (await response.JsonAsync()).GetProperty("id").GetString()!;
        }
        return id;
    }

    private static async Task<byte[]?> DownloadAsync(RunMonitorFactory store, string artifactId)
    {
        var response = await store.CreateClient().GetAsync($"/api/artifacts/{artifactId}");
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsByteArrayAsync() : null;
    }

    private static Task<PurgeRecord?> PurgeTwoDaysLaterAsync(RunMonitorFactory store)
    {
        store.Clock.Advance(TimeSpan.FromDays(2));
        return store.Services.GetRequiredService<RunPurger>().PurgeAsync();
    }

    [Theory]
    [InlineData("a.db", "b.db")]
    [InlineData("b.db", "a.db")]
    public async Task TwoStoresInOneFolder_OnesPurge_LeavesTheOthersBytes(string purging, string keeping)
    {
        var stores = new Dictionary<string, RunMonitorFactory> { ["a.db"] = Start("a.db"), ["b.db"] = Start("b.db") };
        var data = RandomNumberGenerator.GetBytes(4096);
        var kept = await UploadToFinishedRunAsync(stores[keeping], "kept", data);
        await UploadToFinishedRunAsync(stores[purging], "expiring", data);

        var record = await PurgeTwoDaysLaterAsync(stores[purging]);

        Assert.Equal(1, record!.RunsDeleted);
        Assert.Equal(data, await DownloadAsync(stores[keeping], kept));
        Assert.Equal(0, await stores[purging].StoredCopiesAsync(Convert.ToHexStringLower(SHA256.HashData(data))));
    }

    [Fact]
    public async Task FolderFromBeforeOwners_SharedByTwoStores_EachKeepsItsFiles_AndTheSecondsPurgeLeavesTheFirsts()
    {
        var (onlyA, both, onlyB) = (RandomNumberGenerator.GetBytes(1000), RandomNumberGenerator.GetBytes(2000), RandomNumberGenerator.GetBytes(3000));
        var a = Start("a.db");
        var b = Start("b.db");
        var aOwn = await UploadToFinishedRunAsync(a, "a-run", onlyA);
        var aBoth = await UploadToFinishedRunAsync(a, "a-run", both);
        var bBoth = await UploadToFinishedRunAsync(b, "b-run", both);
        var bOwn = await UploadToFinishedRunAsync(b, "b-run", onlyB);
        Stop(a);
        Stop(b);
        // As an older release left them: both stores' bytes in artifacts/, no owner named.
        var shared = Path.Combine(_folder, ArtifactFolder.SharedName);
        var bFolder = Path.Combine(_folder, "b.db" + ArtifactFolder.OwnSuffix);
        foreach (var file in !Directory.Exists(bFolder) ? [] : Directory.GetFiles(bFolder, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(Path.GetDirectoryName(f)!).Length == 2))
        {
            var target = Path.Combine(shared, Path.GetRelativePath(bFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!File.Exists(target)) File.Move(file, target);
        }
        if (Directory.Exists(bFolder)) Directory.Delete(bFolder, recursive: true);
        File.Delete(Path.Combine(shared, ArtifactFolder.MarkerName));

        a = Start("a.db");
        b = Start("b.db");
        var served = new[] { await DownloadAsync(a, aOwn), await DownloadAsync(a, aBoth), await DownloadAsync(b, bBoth), await DownloadAsync(b, bOwn) };
        var record = await PurgeTwoDaysLaterAsync(b);

        Assert.Equal([onlyA, both, both, onlyB], served);
        Assert.Equal(1, record!.RunsDeleted);
        Assert.Equal(onlyA, await DownloadAsync(a, aOwn));
        Assert.Equal(both, await DownloadAsync(a, aBoth));
    }

    [Fact]
    public async Task OneStore_FolderWithoutMarker_KeepsServingItsFilesInPlace()
    {
        var data = RandomNumberGenerator.GetBytes(5000);
        var store = Start("runmonitor.db");
        var id = await UploadToFinishedRunAsync(store, "run", data);
        Stop(store);
        var shared = Path.Combine(_folder, ArtifactFolder.SharedName);
        File.Delete(Path.Combine(shared, ArtifactFolder.MarkerName));

        store = Start("runmonitor.db");

        Assert.Equal(data, await DownloadAsync(store, id));
        Assert.Equal(shared, store.Services.GetRequiredService<ArtifactStore>().Root);
        Assert.Equal("runmonitor.db", File.ReadAllText(Path.Combine(shared, ArtifactFolder.MarkerName)).Trim());
        Assert.False(Directory.Exists(Path.Combine(_folder, "runmonitor.db" + ArtifactFolder.OwnSuffix)));
    }

    /// PostgreSQL keeps the bytes in its own database's artifact_blobs: two databases share nothing to purge.
    [Fact]
    public async Task TwoPostgresStores_OnesPurge_LeavesTheOthersBytes()
    {
        var keeping = Start(new PostgresStore());
        var purging = Start(new PostgresStore());
        var data = RandomNumberGenerator.GetBytes(4096);
        var kept = await UploadToFinishedRunAsync(keeping, "kept", data);
        await UploadToFinishedRunAsync(purging, "expiring", data);

        var record = await PurgeTwoDaysLaterAsync(purging);

        Assert.Equal(1, record!.RunsDeleted);
        Assert.Equal(data, await DownloadAsync(keeping, kept));
        Assert.Equal(0, await purging.StoredCopiesAsync(Convert.ToHexStringLower(SHA256.HashData(data))));
    }
}
