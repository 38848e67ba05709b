using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace RunMonitor.Tests.Infrastructure;

/// The PostgreSQL server the store tests run against: the one `RUNMONITOR_TEST_POSTGRES` names (`.ci/run`
/// starts a throwaway cluster and sets it), otherwise a cluster this test run starts itself from Debian's
/// `postgresql` binaries, in a temp folder on a free loopback port, as the postgres user, stopped at exit.
/// Every test factory gets a database of its own from `CreateDatabaseAsync`.
public static class PostgresServer
{
    public const string EnvironmentVariable = "RUNMONITOR_TEST_POSTGRES";

    private static readonly Lazy<string> Admin = new(StartOrFind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// A superuser connection to the server's `postgres` database.
    public static string AdminConnectionString => Admin.Value;

    /// A new, empty database; its connection string.
    public static string CreateDatabase()
    {
        var name = "rm_" + Guid.NewGuid().ToString("N")[..20];
        using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, MaxPoolSize = 20 }.ConnectionString;
    }

    /// Drops a database `CreateDatabase` made, closing whatever still holds it.
    public static void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        using (var pooled = new NpgsqlConnection(connectionString)) NpgsqlConnection.ClearPool(pooled);
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }

    private static string StartOrFind()
    {
        var given = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(given)) return given;

        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        if (bin is null)
            throw new InvalidOperationException(
                $"The PostgreSQL store tests need a server: apt-get install -y postgresql (.ci/run does this), or set {EnvironmentVariable} to a superuser connection string.");

        var directory = Path.Combine(Path.GetTempPath(), "runmonitor-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var asRoot = Environment.UserName == "root";
        if (asRoot) Run("chown", "postgres:postgres", directory);
        var data = Path.Combine(directory, "data");
        var port = FreePort();
        RunAsPostgres(asRoot, Path.Combine(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C");
        RunAsPostgres(asRoot, Path.Combine(bin, "pg_ctl"), "-D", data, "-l", Path.Combine(directory, "server.log"), "-w", "-o",
            $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start");
        // The test host may be killed rather than exit, so a watchdog outside it stops the cluster and removes
        // its folder once this process is gone, however it ends.
        var stop = $"{(asRoot ? "runuser -u postgres -- " : "")}'{Path.Combine(bin, "pg_ctl")}' -D '{data}' -m immediate stop";
        var watchdog = new ProcessStartInfo("setsid",
        [
            "bash", "-c",
            $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{directory}'",
        ])
        { RedirectStandardOutput = false, RedirectStandardError = false, RedirectStandardInput = true };
        Process.Start(watchdog)?.Dispose();
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void RunAsPostgres(bool asRoot, string program, params string[] args)
    {
        if (asRoot) Run("runuser", ["-u", "postgres", "--", program, .. args]);
        else Run(program, args);
    }

    private static void Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {stderr}{stdout.Result}");
    }
}
