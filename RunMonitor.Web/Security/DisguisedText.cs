using System.Globalization;
using System.Text;

namespace RunMonitor.Web.Security;

/// Invisible characters that change how the text around them reads: the bidi controls (U+202A–U+202E,
/// U+2066–U+2069, U+200E/U+200F, U+061C: `invoice\u202Efdp.exe` shows as `invoiceexe.pdf`) and every other
/// Unicode format character (zero-width spaces, word joiners, U+FEFF, soft hyphens, tag characters outside an emoji
/// flag), and the control characters (C0, DEL and C1: a line break or a tab inside a name, a terminal's escape sequence
/// `\u001B[31m` that recolours the `curl` reading it, a bell). Names and ids refuse them; ZWJ and ZWNJ stay allowed, as
/// scripts and emoji sequences need them to join letters. Free text (messages, stack traces, log lines) keeps its line breaks and tabs.
public static class DisguisedText
{
    public const string Rule = "must not hold control characters (line breaks, tabs, escapes such as U+001B) or invisible formatting characters (bidi controls such as U+202E, zero-width or other Unicode format characters)";

    /// The first disguising character's code point, or null when the text has none.
    public static int? Find(string text) => Scan(text, null);

    // An emoji tag sequence, the one use of Unicode's tag characters: a black flag (U+1F3F4), the tags of a subdivision's
    // code (2 to 7 of the tag letters a-z and digits 0-9), then the cancel tag (U+E007F): the flag with the tags g, b, s,
    // c, t is Scotland's. Tags in such a sequence are part of a picture, not hidden text (an engine's topic may name an
    // emoji); tags anywhere else, more of them, or a sequence left unfinished, are (a run of tags spells hidden words).
    private const int BlackFlag = 0x1F3F4, CancelTag = 0xE007F, MinTags = 2, MaxTags = 7;
    private static bool IsTagSpec(int value) => value is (>= 0xE0030 and <= 0xE0039) or (>= 0xE0061 and <= 0xE007A);

    // The first disguising character's code point; with `revealed`, the text with each replaced by `_` appended to it.
    private static int? Scan(string text, StringBuilder? revealed)
    {
        int? first = null;
        var afterFlag = false; // the last character was a black flag, or a tag after one
        var (tagsFrom, tags) = (-1, 0); // where that flag's tags begin, and how many there are so far
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var value = rune.Value;
            if (afterFlag && IsTagSpec(value) && tags < MaxTags)
            {
                if (tags++ == 0) tagsFrom = index;
            }
            else if (afterFlag && tags >= MinTags && value == CancelTag)
            {
                revealed?.Append(text, tagsFrom, index + rune.Utf16SequenceLength - tagsFrom);
                (afterFlag, tagsFrom, tags) = (false, -1, 0);
            }
            else
            {
                if (tags > 0) Unfinished(text, tagsFrom, index, revealed, ref first);
                (afterFlag, tagsFrom, tags) = (value == BlackFlag, -1, 0);
                if (IsDisguising(rune))
                {
                    first ??= value;
                    revealed?.Append('_');
                }
                else revealed?.Append(text, index, rune.Utf16SequenceLength);
            }
            if (first is not null && revealed is null) return first;
            index += rune.Utf16SequenceLength;
        }
        if (tags > 0) Unfinished(text, tagsFrom, index, revealed, ref first);
        return first;
    }

    // Tags after a flag that no cancel tag ended (or too many): each is disguising.
    private static void Unfinished(string text, int from, int to, StringBuilder? revealed, ref int? first)
    {
        first ??= char.ConvertToUtf32(text, from);
        if (revealed is null) return;
        for (var i = from; i < to; i += 2) revealed.Append('_');
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
        Scan(text, plain);
        return plain.ToString();
    }
}
