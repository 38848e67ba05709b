using Microsoft.Extensions.Primitives;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Runs;

public sealed class RunFilterTests
{
    private static readonly Caller Admin = new(null, Roles.Admin);
    private static readonly Caller Viewer = new("acme", Roles.Viewer);

    /// The filter, or the first bad parameter (the one a single bad parameter's answer names).
    private static (RunFilter? Filter, BadParameter? Error) Parse(string query, Caller? caller = null)
    {
        var (filter, errors) = RunFilter.Parse(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)
            .ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), caller ?? Admin);
        return (filter, errors?[0]);
    }

    [Fact]
    public void For_Caller_IsItsOwnTenantWithoutCriteria()
    {
        Assert.Equal(new RunFilter { Tenant = "acme" }, RunFilter.For(Viewer));
        Assert.Null(RunFilter.For(Admin).Tenant);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("tenant=acme", false)]
    public void SpansTenantsFor_SuperAdmin_OnlyWithoutANamedTenant(string query, bool expected) =>
        Assert.Equal(expected, Parse(query).Filter!.SpansTenantsFor(Admin));

    [Fact]
    public void SpansTenantsFor_TenantKey_Never() => Assert.False(Parse("", Viewer).Filter!.SpansTenantsFor(Viewer));

    [Theory]
    [InlineData(null, null, false)]
    [InlineData(" ", null, false)]
    [InlineData(" acme ", "acme", true)]
    public void ScopeTenant_SuperAdmin_BlankIsNotNamed(string? asked, string? tenant, bool chosen) =>
        Assert.Equal((tenant, chosen, (BadParameter?)null), RunFilter.ScopeTenant(asked, Admin));

    [Fact]
    public void ScopeTenant_TenantKeyNamingOne_IsRefusedWithTodaysText() =>
        Assert.Equal(new BadParameter("tenant", "is for super admins only; your key sees its own tenant"), RunFilter.ScopeTenant("other", Viewer).Error);

    [Fact]
    public void Parse_Everything_RoundTripsToTheSameQuery()
    {
        var (filter, error) = Parse("layer_name=wf&status=failed,success&q=Black&from=2026-11-01&to=2026-11-20&sort=-duration&offset=40&limit=50&tenant=acme");

        Assert.Null(error);
        Assert.Equal("wf", filter!.Workflow);
        Assert.Equal(["failed", "completed"], filter.Statuses);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero), filter.To);
        Assert.Equal(RunSort.Duration, filter.Sort);
        Assert.True(filter.Descending);
        Assert.Equal("acme", filter.Tenant);
        Assert.Equal("?tenant=acme&layer_name=wf&status=failed,completed&q=Black&from=2026-11-01&to=2026-11-20&sort=-duration&offset=40&limit=50", filter.ToQueryString());
    }

    [Fact]
    public void Parse_Nothing_GivesDefaults()
    {
        var (filter, _) = Parse("");

        Assert.Equal(20, filter!.Limit);
        Assert.Equal("-created", filter.SortToken);
        Assert.Equal("", filter.ToQueryString());
    }

    [Fact]
    public void Parse_TenantFromViewer_IsRefusedAndScopeStaysTheirs()
    {
        var (_, error) = Parse("tenant=globex", Viewer);
        var (own, _) = Parse("", Viewer);

        Assert.Equal("tenant", error!.Name);
        Assert.Equal("acme", own!.Tenant);
    }
}
