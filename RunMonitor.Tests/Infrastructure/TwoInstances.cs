namespace RunMonitor.Tests.Infrastructure;

/// Two instances of the app on one fresh PostgreSQL database, as behind a load balancer: both started before each
/// test, the database dropped after it.
public abstract class TwoInstances<T> : IAsyncLifetime where T : RunMonitorFactory
{
    private readonly string _database = PostgresServer.CreateDatabase();

    protected T A { get; private set; } = null!;
    protected T B { get; private set; } = null!;

    /// One instance of the app on the test's database.
    protected abstract T Start(string database);

    public Task InitializeAsync()
    {
        A = Start(_database);
        B = Start(_database);
        _ = A.CreateClient();
        _ = B.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        PostgresServer.DropDatabase(_database);
    }
}
