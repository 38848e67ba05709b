using System.Text;

namespace RunMonitor.Web.Runs;

/// A name search folds case for every letter, not ASCII's alone. SQLite's trigram index folds Unicode itself, but
/// PostgreSQL's `ILIKE` on the C-collated `name` and SQLite's `LIKE` fold ASCII only, so `été` missed `Été` there.
/// A `q` with a letter outside ASCII is searched as a pattern that spells each such letter's every case
/// (`[éÉ]`): a regular expression for PostgreSQL (its trigram index serves `~*` as it serves `ILIKE`), a GLOB for
/// SQLite. A `q` of ASCII only keeps the LIKE it always had.
public static class NameFolding
{
    /// True when `q` has a letter outside ASCII with another case: only then does the pattern differ from a LIKE.
    public static bool Needed(string q)
    {
        foreach (var rune in q.EnumerateRunes())
        {
            if (!rune.IsAscii && Cases(rune).Length > 1) return true;
        }
        return false;
    }

    /// PostgreSQL: a regular expression for `name ~* …` that matches `q` anywhere in a name. `~*` folds ASCII
    /// letters under the C collation; every other letter is a bracket of its cases, every other character literal.
    public static string Regex(string q)
    {
        var pattern = new StringBuilder(q.Length * 2);
        foreach (var rune in q.EnumerateRunes())
        {
            if (rune.IsAscii)
            {
                if (RegexSpecials.Contains((char)rune.Value)) pattern.Append('\\');
                pattern.Append((char)rune.Value);
            }
            else
            {
                AppendCases(pattern, rune);
            }
        }
        return pattern.ToString();
    }

    /// SQLite: a GLOB (case-sensitive) for `name GLOB …` that matches `q` anywhere in a name: every letter a bracket
    /// of its cases (ASCII's two included), `*`, `?` and `[` bracketed so they are literal.
    public static string Glob(string q)
    {
        var pattern = new StringBuilder(q.Length * 4 + 2).Append('*');
        foreach (var rune in q.EnumerateRunes())
        {
            if (rune.Value is '*' or '?' or '[') pattern.Append('[').Append((char)rune.Value).Append(']');
            else AppendCases(pattern, rune);
        }
        return pattern.Append('*').ToString();
    }

    private const string RegexSpecials = @"\^$.|?*+()[]{}";

    private static void AppendCases(StringBuilder pattern, Rune rune)
    {
        var cases = Cases(rune);
        if (cases.Length == 1)
        {
            pattern.Append(rune.ToString());
            return;
        }
        pattern.Append('[');
        foreach (var c in cases) pattern.Append(c.ToString());
        pattern.Append(']');
    }

    /// The letters that are `rune` in another case: those with the same lower case (`ẞ` and `ß`; `K`, `k` and the
    /// Kelvin sign), ASCII letters their two only; `rune` alone when it has no case.
    private static Rune[] Cases(Rune rune)
    {
        if (rune.IsAscii)
        {
            return Rune.IsLetter(rune) ? [Rune.ToLowerInvariant(rune), Rune.ToUpperInvariant(rune)] : [rune];
        }
        var lower = Rune.ToLowerInvariant(rune);
        return SameLower.Value.TryGetValue(lower, out var cases) ? cases : [rune];
    }

    /// Every lower-case letter another letter lowers to, with those letters (itself first). Built once, on the first
    /// search that needs it, from the first two planes: no letter past them has case.
    private static readonly Lazy<Dictionary<Rune, Rune[]>> SameLower = new(() =>
    {
        var groups = new Dictionary<Rune, List<Rune>>();
        for (var value = 0; value <= 0x1FFFF; value++)
        {
            if (!Rune.IsValid(value)) continue;
            var rune = new Rune(value);
            var lower = Rune.ToLowerInvariant(rune);
            if (lower == rune) continue;
            if (!groups.TryGetValue(lower, out var group)) groups[lower] = group = [lower];
            group.Add(rune);
        }
        return groups.ToDictionary(g => g.Key, g => g.Value.ToArray());
    });
}
