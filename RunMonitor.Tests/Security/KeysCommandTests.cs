using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using RunMonitor.Web.Data;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

public sealed class KeysCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runmonitor-tests", Guid.NewGuid().ToString("N"));

    public KeysCommandTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private Database Database => new(Path.Combine(_directory, "keys.db"));

    private static IConfiguration Empty => new ConfigurationBuilder().Build();

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await KeysCommand.RunAsync(args, Database, Empty, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Create_PrintsKeyOnceAndStoresOnlyItsHash()
    {
        var (code, output, _) = await RunAsync("create", "--tenant", "acme", "--role", "operator");

        Assert.Equal(0, code);
        var secret = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        Assert.StartsWith(ApiKeyStore.KeyPrefix, secret);
        var store = new ApiKeyStore(Database, TimeProvider.System, Empty);
        var key = await store.FindAsync(secret);
        Assert.Equal(("acme", Roles.Operator), (key!.TenantId, key.Role));
        var bytes = await File.ReadAllBytesAsync(Database.Path);
        Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(bytes));
        var (_, list, _) = await RunAsync("list");
        Assert.DoesNotContain(secret, list);
        Assert.Contains(key.Id, list);
    }

    [Fact]
    public async Task Revoke_StopsTheKey()
    {
        var (_, output, _) = await RunAsync("create", "--role", "admin");
        var secret = output.Trim().Split('\n').Last().Trim();
        var store = new ApiKeyStore(Database, TimeProvider.System, Empty);
        var id = (await store.FindAsync(secret))!.Id;

        var (code, _, _) = await RunAsync("revoke", id);

        Assert.Equal(0, code);
        Assert.Null(await store.FindAsync(secret));
        Assert.Contains("revoked", (await RunAsync("list")).Output);
        Assert.Equal(1, (await RunAsync("revoke", id)).Code);
    }

    [Theory]
    [InlineData("create", "--role", "viewer")]
    [InlineData("create", "--tenant", "acme", "--role", "root")]
    [InlineData("create", "--tenant", "Not A Tenant", "--role", "viewer")]
    [InlineData("create", "--tenant", "acme")]
    [InlineData("frobnicate")]
    public async Task BadArguments_ExitWithUsage(params string[] args)
    {
        var (code, output, error) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("usage:", error);
    }

    [Fact]
    public async Task Program_KeysCommand_RunsAndExitsWithoutStartingTheServer()
    {
        var app = Path.Combine(AppContext.BaseDirectory, "RunMonitor.Web.dll");
        var start = new ProcessStartInfo("dotnet", [app, "keys", "create", "--tenant", "acme", "--role", "viewer"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory,
        };
        start.Environment["RunMonitor__Database"] = Path.Combine(_directory, "cli.db");
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:1";   // would fail loudly if a server started

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "keys create did not exit");

        Assert.Equal(0, process.ExitCode);
        Assert.StartsWith(ApiKeyStore.KeyPrefix, output.Trim().Split('\n').Last().Trim());
        Assert.DoesNotContain("Now listening", output);
    }
}
