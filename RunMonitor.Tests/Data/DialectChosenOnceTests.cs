using System.Text.RegularExpressions;

namespace RunMonitor.Tests.Data;

/// The SQL dialect is chosen once: `IsPostgres` (and a look at the connection's type) appears only in composition
/// (Program, the `Add…` registrations, `Database` where the engine is read from the setting) and in the two
/// dialect implementations. Every other class asks the dialect for the spelling.
public class DialectChosenOnceTests
{
    private static readonly string[] Allowed =
    [
        "Program.cs",
        "Data/Database.cs",
        "Data/SqliteDialect.cs",
        "Data/PostgresDialect.cs",
        // Composition: AddRunEvents and AddSharedKeyRing register the PostgreSQL implementations.
        "Runs/PostgresRunEvents.cs",
        "Data/PostgresKeyRing.cs",
    ];

    private static readonly Regex Question = new(@"\bIsPostgres\b|is\s+NpgsqlConnection\b", RegexOptions.Compiled);

    [Fact]
    public void IsPostgres_IsAskedOnlyInCompositionAndTheDialects()
    {
        var web = WebSourceDirectory();
        var askers = Directory.EnumerateFiles(web, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(web, f).Replace('\\', '/'), Line: i + 1, Text: line)))
            .Where(l => Question.IsMatch(l.Text) && !l.Text.TrimStart().StartsWith("///", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(askers);
        Assert.Empty(askers.Where(l => !Allowed.Contains(l.File)).Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}"));
    }

    /// `RunMonitor.Web/` in the first folder above the test assembly that holds the solution.
    private static string WebSourceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RunMonitor.sln"))) return Path.Combine(dir.FullName, "RunMonitor.Web");
        throw new DirectoryNotFoundException($"no RunMonitor.sln above {AppContext.BaseDirectory}");
    }
}
