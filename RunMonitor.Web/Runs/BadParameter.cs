namespace RunMonitor.Web.Runs;

/// A bad request parameter: which one, and what it accepts. Answered 400 by every surface.
public sealed record BadParameter(string Name, string Message)
{
    /// One request's bad parameters as one answer names them: one a name (the first found for it), in the order of
    /// `names` (the query's own), a name it does not hold after those; null when there are none.
    public static IReadOnlyList<BadParameter>? InOrder(IEnumerable<string> names, IEnumerable<BadParameter?> found)
    {
        var order = names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var all = found.OfType<BadParameter>().DistinctBy(e => e.Name, StringComparer.Ordinal)
            .OrderBy(e => order.TryGetValue(e.Name, out var i) ? i : int.MaxValue).ToList();
        return all.Count == 0 ? null : all;
    }

    /// The parameters and what each accepts, in one line (`from accepts …; limit accepts …`).
    public static string Describe(IEnumerable<BadParameter> errors) => string.Join("; ", errors.Select(e => $"{e.Name} {e.Message}"));
}

/// The bad parameters a parser finds while it reads a whole query: it reads on past the first, so that one answer
/// names every one, and reads a parameter no further once it is found bad.
public sealed class BadParameters(IEnumerable<string> names)
{
    private readonly List<BadParameter> found = [];

    public bool Holds(string name) => found.Exists(e => e.Name == name);

    public void Add(string name, string message) => Add(new BadParameter(name, message));

    public void Add(BadParameter? error)
    {
        if (error is not null && !Holds(error.Name)) found.Add(error);
    }

    /// Every one found, in the query's order; null when the query is good.
    public IReadOnlyList<BadParameter>? All => BadParameter.InOrder(names, found);
}
