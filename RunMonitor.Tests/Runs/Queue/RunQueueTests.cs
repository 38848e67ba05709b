using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Runs;

/// The queue's rules: tenant scoping of claim, cancel and retry, and the roles allowed to use them.
public class RunQueueTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private static readonly Caller Admin = new(null, Roles.Admin);
    private RunService Service => factory.Services.GetRequiredService<RunService>();
    private RunQueue Queue => factory.Services.GetRequiredService<RunQueue>();

    private async Task<string> QueuedAsync(string tenant, string workflow, string? createdAt = null)
    {
        var result = await Service.CreateAsync(Admin, new NewRun
        {
            TenantId = tenant, WorkflowName = workflow,
            CreatedAt = createdAt is null ? null : DateTimeOffset.Parse(createdAt, System.Globalization.CultureInfo.InvariantCulture),
        });
        return result.Value!.Id;
    }

    [Fact]
    public async Task Claim_TenantKey_GetsOnlyItsTenantsRunsEvenWhenOthersAreOlder()
    {
        await QueuedAsync("globex", "svc-claim", "2026-11-21T08:00:00Z");
        var mine = await QueuedAsync("acme", "svc-claim", "2026-11-21T09:00:00Z");

        var acme = await Queue.ClaimAsync(new Caller("acme", Roles.Ingest), new ClaimRequest("w", ["svc-claim"], 30));
        var again = await Queue.ClaimAsync(new Caller("acme", Roles.Ingest), new ClaimRequest("w", ["svc-claim"], 30));

        Assert.Equal(mine, acme.Value?.Run.Id);
        Assert.Null(again.Value);
    }

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Operator)]
    public async Task Claim_WithoutIngestRole_IsForbidden(string role)
    {
        var result = await Queue.ClaimAsync(new Caller("acme", role), new ClaimRequest("w", ["svc-none"], 30));

        Assert.Equal(WriteOutcome.Forbidden, result.Outcome);
    }

    [Theory]
    [InlineData(Roles.Viewer)]
    [InlineData(Roles.Ingest)]
    public async Task RetryAndCancel_WithoutOperatorRole_AreForbidden(string role)
    {
        var id = await QueuedAsync("acme", "svc-roles");
        var caller = new Caller("acme", role);

        var cancel = await Queue.CancelAsync(caller, caller.TenantId, id);
        var retry = await Queue.RetryAsync(caller, caller.TenantId, id, new RetryRequest());

        Assert.Equal(WriteOutcome.Forbidden, cancel.Outcome);
        Assert.Equal(WriteOutcome.Forbidden, retry.Outcome);
    }

    [Fact]
    public async Task RetryAndCancel_OtherTenantsRun_IsNotFound()
    {
        var id = await QueuedAsync("globex", "svc-tenant");
        var acme = new Caller("acme", Roles.Operator);

        var cancel = await Queue.CancelAsync(acme, acme.TenantId, id);
        var retry = await Queue.RetryAsync(acme, acme.TenantId, id, new RetryRequest());

        Assert.Equal(WriteOutcome.NotFound, cancel.Outcome);
        Assert.Equal(WriteOutcome.NotFound, retry.Outcome);
    }

    [Fact]
    public async Task Retry_KeepsTheOldRunsTenant()
    {
        var id = await QueuedAsync("globex", "svc-retry-tenant");
        await Queue.CancelAsync(Admin, null, id);

        var retry = await Queue.RetryAsync(Admin, null, id, new RetryRequest());

        Assert.Equal("globex", retry.Value!.TenantId);
    }
}

/// The same tests with the app on PostgreSQL.
public sealed class RunQueueTestsOnPostgres(PostgresFactory factory) : RunQueueTests(factory), IClassFixture<PostgresFactory>;
