using System.Globalization;
using System.Text;

namespace RunMonitor.Web.Security;

/// Invisible characters that change how the text around them reads: the bidi controls (U+202A–U+202E,
/// U+2066–U+2069, U+200E/U+200F, U+061C: `invoice\u202Efdp.exe` shows as `invoiceexe.pdf`) and every other
/// Unicode format character (zero-width spaces, word joiners, U+FEFF, soft hyphens, tag characters), and the control
/// characters (C0, DEL and C1: a line break or a tab inside a name, a terminal's escape sequence `\u001B[31m` that
/// recolours the `curl` reading it, a bell). Names and ids refuse them; ZWJ and ZWNJ stay allowed, as scripts and emoji
/// sequences need them to join letters. Free text (messages, stack traces, log lines) keeps its line breaks and tabs.
public static class DisguisedText
{
    public const string Rule = "must not hold control characters (line breaks, tabs, escapes such as U+001B) or invisible formatting characters (bidi controls such as U+202E, zero-width or other Unicode format characters)";

    /// The first disguising character's code point, or null when the text has none.
    public static int? Find(string text)
    {
        foreach (var rune in text.EnumerateRunes())
            if (IsDisguising(rune)) return rune.Value;
        return null;
    }

    public static bool IsDisguising(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.Control => true,
        UnicodeCategory.Format => rune.Value is not (0x200C or 0x200D),
        _ => false,
    };

    /// The text with each disguising character replaced by `_`: for names stored before they were refused.
    public static string Reveal(string text)
    {
        if (Find(text) is null) return text;
        var plain = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes()) plain.Append(IsDisguising(rune) ? "_" : rune.ToString());
        return plain.ToString();
    }
}
