using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web;

namespace RunMonitor.Tests.Security;

/// `Routes` is the one route table: the app serves exactly it, and each `@page` directive (which takes no constant)
/// spells the route `Routes.Pages` names for it.
public class RoutesTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    [Fact]
    public async Task App_ServesExactlyTheRoutesOfTheTable()
    {
        var served = (await RouteTable.ServedAsync(factory.Services)).Select(r => r.Display).ToHashSet();
        var named = (await RouteTable.ReadAsync(factory.Services)).Select(r => r.Display).ToHashSet();

        Assert.Empty(served.Except(named).Order());
        Assert.Empty(named.Except(served).Order());
        Assert.Equal(Routes.All.Count, named.Count);
    }

    [Fact]
    public void EachPage_PageDirective_SpellsItsRoutesConstant()
    {
        var pages = factory.Services.GetRequiredService<IActionDescriptorCollectionProvider>().ActionDescriptors.Items
            .OfType<PageActionDescriptor>().ToList();

        Assert.Equal(Routes.Pages.Keys.Order(), pages.Select(p => p.ViewEnginePath).Distinct().Order());
        foreach (var page in pages)
            Assert.Equal(Routes.Pages[page.ViewEnginePath], "/" + page.AttributeRouteInfo!.Template);
    }

    [Theory]
    [InlineData(Routes.ApiRun, "a b/c", "/api/runs/a%20b%2Fc")]
    [InlineData(Routes.RunPage, "r-1", "/runs/r-1")]
    [InlineData(Routes.ApiArtifact, "x", "/api/artifacts/x")]
    public void Path_PutsEachValueInEscaped(string pattern, string value, string expected)
    {
        var name = pattern.Contains("{artifactId}", StringComparison.Ordinal) ? "artifactId" : "id";

        Assert.Equal(expected, Routes.Path(pattern, (name, value)));
    }

    [Fact]
    public void Path_FillsEveryParameterOfAStepPayload() =>
        Assert.Equal("/api/runs/r1/steps/s%2F1/payload/input", Routes.Path(Routes.ApiStepPayload, ("id", "r1"), ("stepId", "s/1"), ("field", "input")));
}
