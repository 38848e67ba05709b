using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Runs;

public sealed class PriceTableTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private static PriceTable Table(Dictionary<string, ModelPrice>? configured = null) =>
        new(Options.Create(new PriceOptions { Prices = new(configured ?? [], StringComparer.OrdinalIgnoreCase) }));

    [Theory]
    [InlineData("gpt-4o-mini-2024-07-18", 0.15 + 0.60)]
    [InlineData("gpt-4o-2024-08-06", 2.50 + 10.00)]
    [InlineData("GPT-4O", 2.50 + 10.00)]
    [InlineData("claude-sonnet-4-5", 3.00 + 15.00)]
    public void Estimate_ModelName_UsesLongestMatchingPrefix(string model, double expected)
    {
        Assert.Equal(expected, Table().Estimate(model, 1_000_000, 1_000_000)!.Value, 9);
    }

    [Fact]
    public void Estimate_UnknownModelOrNoTokens_IsNull()
    {
        Assert.Null(Table().Estimate("mystery-model", 1000, 1000));
        Assert.Null(Table().Estimate(null, 1000, 1000));
        Assert.Null(Table().Estimate("gpt-4o", null, null));
    }

    [Fact]
    public void Estimate_OnlyInputTokens_CountsThem()
    {
        Assert.Equal(2.5, Table().Estimate("gpt-4o", 1_000_000, null)!.Value, 9);
    }

    [Fact]
    public void Configuration_OverridesDefaultsAndAddsModels()
    {
        var table = Table(new()
        {
            ["gpt-4o"] = new ModelPrice { InputPerMillion = 1, OutputPerMillion = 2 },
            ["house-model"] = new ModelPrice { InputPerMillion = 7, OutputPerMillion = 21 },
        });

        Assert.Equal(3, table.Estimate("gpt-4o", 1_000_000, 1_000_000)!.Value, 9);
        Assert.Equal(28, table.Estimate("house-model-v2", 1_000_000, 1_000_000)!.Value, 9);
        Assert.Equal(0.75, table.Estimate("gpt-4o-mini", 1_000_000, 1_000_000)!.Value, 9);
    }

    [Fact]
    public async Task Ingest_TokensWithoutCost_IsEstimatedAndMarkedInJsonAndList()
    {
        var client = factory.CreateClient();

        var run = await client.CreateRunAsync(new
        {
            workflowName = "price-estimated", status = "completed",
            usage = new { model = "gpt-4o", tokensInput = 1_000_000, tokensOutput = 100_000 },
        });

        var usage = run.GetProperty("usage");
        Assert.Equal(3.5, usage.GetProperty("costUsd").GetDouble(), 9);
        Assert.True(usage.GetProperty("costEstimated").GetBoolean());
        var row = (await client.GetDocumentAsync("/ui/runs/list?layer_name=price-estimated")).QuerySelector("table.runs-table tbody tr")!;
        // The cell's text is the cost as the contract writes it; the estimate is its class (shown by CSS).
        var cell = row.QuerySelector("td.num.cost-est")!;
        Assert.Equal("$3.5000", cell.Text());
        Assert.Equal("Estimated from tokens and the price table", cell.GetAttribute("title"));
    }

    [Fact]
    public async Task Modal_EstimatedCost_SaysEstimatedOnce_AndWhereTheFigureComesFrom()
    {
        var client = factory.CreateClient();
        var id = (await client.CreateRunAsync(new
        {
            workflowName = "price-modal", status = "completed",
            usage = new { model = "gpt-4o", tokensInput = 1_000_000, tokensOutput = 100_000 },
        })).GetProperty("id").GetString();

        var modal = await client.GetDocumentAsync($"/ui/runs/{id}");

        var row = modal.QuerySelectorAll(".metric-row").Single(r => r.QuerySelector(".metric-label")!.Text() == "Estimated cost");
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(row.Text(), "est", System.Text.RegularExpressions.RegexOptions.IgnoreCase));
        Assert.Equal("$3.5000 from the price table", row.Children.Last().Text().Squash());
    }

    [Fact]
    public async Task Ingest_ReportedCost_IsNotEstimatedAndReplacesAnEstimate()
    {
        var client = factory.CreateClient();
        var run = await client.CreateRunAsync(new
        {
            workflowName = "price-reported", status = "running",
            usage = new { model = "gpt-4o", tokensInput = 1_000_000, tokensOutput = 0 },
        });
        var id = run.GetProperty("id").GetString();

        var patched = await (await client.PatchJsonAsync($"/api/runs/{id}", new { usage = new { costUsd = 0.42 } })).JsonAsync();

        Assert.Equal(0.42, patched.GetProperty("usage").GetProperty("costUsd").GetDouble(), 9);
        Assert.False(patched.GetProperty("usage").GetProperty("costEstimated").GetBoolean());
        var row = (await client.GetDocumentAsync("/ui/runs/list?layer_name=price-reported")).QuerySelector("table.runs-table tbody tr")!;
        Assert.Null(row.QuerySelector(".cost-est"));
    }
}
