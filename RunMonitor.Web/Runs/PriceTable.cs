using Microsoft.Extensions.Options;

namespace RunMonitor.Web.Runs;

public sealed record ModelPrice
{
    public double InputPerMillion { get; init; }
    public double OutputPerMillion { get; init; }
}

public sealed class PriceOptions
{
    /// USD per million tokens by model name (or name prefix): `RunMonitor:Prices:gpt-4o:InputPerMillion`.
    public Dictionary<string, ModelPrice> Prices { get; init; } = new(StringComparer.OrdinalIgnoreCase);
}

/// Estimates a run's cost from its tokens when the engine reports none. Configuration overrides
/// and extends the defaults; the longest matching model-name prefix wins.
public sealed class PriceTable
{
    public static readonly IReadOnlyDictionary<string, ModelPrice> Defaults = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-4o-mini"] = new() { InputPerMillion = 0.15, OutputPerMillion = 0.60 },
        ["gpt-4o"] = new() { InputPerMillion = 2.50, OutputPerMillion = 10.00 },
        ["gpt-4.1-mini"] = new() { InputPerMillion = 0.40, OutputPerMillion = 1.60 },
        ["gpt-4.1"] = new() { InputPerMillion = 2.00, OutputPerMillion = 8.00 },
        ["claude-3-5-haiku"] = new() { InputPerMillion = 0.80, OutputPerMillion = 4.00 },
        ["claude-haiku"] = new() { InputPerMillion = 1.00, OutputPerMillion = 5.00 },
        ["claude-sonnet"] = new() { InputPerMillion = 3.00, OutputPerMillion = 15.00 },
        ["claude-opus"] = new() { InputPerMillion = 15.00, OutputPerMillion = 75.00 },
        ["gemini-1.5-flash"] = new() { InputPerMillion = 0.075, OutputPerMillion = 0.30 },
        ["gemini-1.5-pro"] = new() { InputPerMillion = 1.25, OutputPerMillion = 5.00 },
    };

    private readonly Dictionary<string, ModelPrice> _prices;

    public PriceTable(IOptions<PriceOptions> options)
    {
        _prices = new Dictionary<string, ModelPrice>(Defaults, StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in options.Value.Prices) _prices[model] = price;
    }

    public IReadOnlyDictionary<string, ModelPrice> Prices => _prices;

    public double? Estimate(string? model, long? tokensInput, long? tokensOutput)
    {
        if (model is null || (tokensInput is null && tokensOutput is null)) return null;
        var match = _prices
            .Where(p => model.StartsWith(p.Key, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(p => p.Key.Length)
            .Select(p => p.Value)
            .FirstOrDefault();
        if (match is null) return null;
        return ((tokensInput ?? 0) * match.InputPerMillion + (tokensOutput ?? 0) * match.OutputPerMillion) / 1_000_000d;
    }
}
