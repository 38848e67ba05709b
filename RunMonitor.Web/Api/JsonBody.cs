using System.Globalization;
using System.Text.Json;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

/// Reads one JSON object field by field, collecting a message per bad field (the 400's `errors`),
/// and refusing fields it does not know rather than silently dropping them.
public sealed class JsonBody
{
    private readonly JsonElement _root;
    private readonly string _prefix;
    private readonly Dictionary<string, List<string>> _errors;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private JsonBody(JsonElement root, string prefix, Dictionary<string, List<string>> errors)
    {
        _root = root;
        _prefix = prefix;
        _errors = errors;
    }

    /// `known`: fields another reader takes (a batch line's `type` and run id), neither read here nor refused.
    public static JsonBody? Object(JsonElement root, Dictionary<string, List<string>> errors, string prefix = "", IReadOnlyList<string>? known = null)
    {
        if (root.ValueKind == JsonValueKind.Object)
        {
            var body = new JsonBody(root, prefix, errors);
            if (known is not null) body._read.UnionWith(known);
            return body;
        }
        Add(errors, prefix.Length == 0 ? "body" : prefix.TrimEnd('.'), "must be a JSON object");
        return null;
    }

    public IReadOnlyDictionary<string, List<string>> Errors => _errors;

    /// The path of the first string or property name that is not storable text: not valid Unicode (a lone
    /// surrogate escape such as "\ud800", which JSON's grammar allows but no string can hold) or holding a NUL
    /// (which PostgreSQL's text refuses; refused on both stores, so a store can always be copied to the other).
    /// Null when all are.
    public static string? FindInvalidText(JsonElement element, string path = "body")
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    return element.GetString()!.Contains('\0', StringComparison.Ordinal) ? path : null;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        if (FindInvalidText(item, $"{path}[{i.ToString(CultureInfo.InvariantCulture)}]") is { } bad) return bad;
                        i++;
                    }
                    return null;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        var name = property.Name;
                        if (name.Contains('\0', StringComparison.Ordinal)) return path;
                        if (FindInvalidText(property.Value, path == "body" ? name : $"{path}.{name}") is { } bad) return bad;
                    }
                    return null;
                default:
                    return null;
            }
        }
        catch (InvalidOperationException)
        {
            return path;
        }
    }

    private string Path(string name) => _prefix + name;

    private static void Add(Dictionary<string, List<string>> errors, string field, string message)
    {
        if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
        list.Add(message);
    }

    public void Fail(string name, string message) => Add(_errors, Path(name), message);

    public bool Has(string name) => _root.TryGetProperty(name, out _);

    /// Given as JSON null (an engine's record names every column, null where it has nothing yet).
    public bool IsNull(string name) => _root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Null;

    /// The flag of a field given as JSON null (it clears the field), else none.
    public Cleared NullClears(string name, Cleared field) => IsNull(name) ? field : Cleared.None;

    /// A field that cannot be empty (a status) given as JSON null: refused, as leaving it out keeps what is stored.
    public void NullRefused(string name, string why)
    {
        if (IsNull(name)) Fail(name, $"cannot be cleared: {why}; leave it out to keep the one stored");
    }

    /// Which of two names of one field to read: `alias`, the name an engine's own record gives it (Zos's `started_at`
    /// for `startedAt`, omeercs's `endedAt` for a step's `completedAt`), when only it is given; otherwise `name`. Both
    /// given is refused, naming the alias: taking either would drop the other without a word.
    public string Alias(string name, string alias)
    {
        if ((alias.Contains('_') && !HasSnakeCaseNames) || !Has(alias)) return name;
        if (!Has(name)) return alias;
        _read.Add(alias);
        Fail(alias, $"is another name for {_prefix}{name}; give one of them");
        return name;
    }

    /// Whether the object names any field besides these two (a planned step's `stepId` and `skillId`).
    public bool HasOtherThan(string first, string second) =>
        _root.GetPropertyCount() > (Has(first) ? 1 : 0) + (Has(second) ? 1 : 0);

    private int _snakeCase; // 0: not looked at yet, 1: no name with an underscore, 2: some

    /// Whether any field's name has an underscore. The snake_case names of an engine's record (Zos's columns) are
    /// looked for only then: a create's body names none, and each look is a walk through its fields.
    public bool HasSnakeCaseNames
    {
        get
        {
            if (_snakeCase == 0)
            {
                _snakeCase = 1;
                foreach (var property in _root.EnumerateObject())
                {
                    if (property.Name.Contains('_')) { _snakeCase = 2; break; }
                }
            }
            return _snakeCase == 2;
        }
    }

    /// Takes a field as read without reading its value: one checked elsewhere, or by another reader.
    public void Taken(string name) => _read.Add(name);

    /// Present and not JSON null.
    private bool TryGet(string name, out JsonElement value)
    {
        // Only a name the body gives is kept as read: `RejectUnknown` looks up no other, and the set stays small.
        if (!_root.TryGetProperty(name, out value)) return false;
        _read.Add(name);
        return value.ValueKind != JsonValueKind.Null;
    }

    /// Refuses a field no reader took, and a known one given twice: JSON leaves it open which of the two counts, and
    /// taking either would drop the other without a word.
    /// The names seen are kept in a pooled array, looked through in turn: an object holds a few dozen at most, and a
    /// set a body cost a create more than the whole check (docs/PERFORMANCE.md, "Fields given twice").
    /// `accepted`: what the body takes, said after "is not a known field" (the bulk request names its fields).
    public void RejectUnknown(string? accepted = null)
    {
        var seen = System.Buffers.ArrayPool<string>.Shared.Rent(32);
        var count = 0;
        try
        {
            foreach (var property in _root.EnumerateObject())
            {
                var name = property.Name;
                if (!_read.Contains(name)) Fail(name, accepted is null ? "is not a known field" : "is not a known field; " + accepted);
                else if (System.Array.IndexOf(seen, name, 0, count) >= 0) Fail(name, "is given more than once; give it once");
                else
                {
                    if (count == seen.Length)
                    {
                        var larger = System.Buffers.ArrayPool<string>.Shared.Rent(count * 2);
                        System.Array.Copy(seen, larger, count);
                        System.Buffers.ArrayPool<string>.Shared.Return(seen, clearArray: true);
                        seen = larger;
                    }
                    seen[count++] = name;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<string>.Shared.Return(seen, clearArray: true);
        }
    }

    /// A string field. Unless `freeText` (messages, stack traces), it is a name or id and refuses disguising characters.
    public string? String(string name, int maxLength, System.Text.RegularExpressions.Regex? pattern = null, string? patternText = null, bool required = false,
        bool freeText = false)
    {
        if (!TryGet(name, out var value))
        {
            if (required) Fail(name, "is required");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String) { Fail(name, "must be a string"); return null; }
        var text = value.GetString()!;
        if (required && string.IsNullOrWhiteSpace(text)) { Fail(name, "must not be empty"); return null; }
        if (text.Length > maxLength) { Fail(name, $"must be at most {maxLength} characters"); return null; }
        if (pattern is not null && !pattern.IsMatch(text)) { Fail(name, $"must be {patternText}"); return null; }
        if (!freeText && DisguisedText.Find(text) is not null) { Fail(name, DisguisedText.Rule); return null; }
        return text;
    }

    public bool? Bool(string name)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        Fail(name, "must be true or false");
        return null;
    }

    /// The most a count (tokens, targets, insights, a duration in ms) or a cost may be in one run or step: far past any
    /// real run, and small enough that the stats' sums over a hundred million runs stay exact and finite (a run at
    /// 2^63 tokens made the admin's Tokens card wrap to a negative total, and a cost of 1e308 made the stats' JSON an
    /// infinity it cannot write: a 500).
    public const long MaxCount = 1_000_000_000_000;
    public const double MaxMoney = 1_000_000_000;

    public long? Count(string name, long min = 0, long max = MaxCount)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n >= min && n <= max) return n;
        Fail(name, string.Create(CultureInfo.InvariantCulture, $"must be a whole number from {min:N0} to {max:N0}"));
        return null;
    }

    public double? Money(string name)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var n) && n >= 0 && n <= MaxMoney) return n;
        Fail(name, string.Create(CultureInfo.InvariantCulture, $"must be a number from 0 to {MaxMoney:N0} (US dollars)"));
        return null;
    }

    /// A number of seconds, fractions too (as Python's `timedelta.total_seconds()` gives them), up to a run's longest
    /// duration.
    public double? Seconds(string name)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var n) && n >= 0 && n <= MaxSeconds) return n;
        Fail(name, string.Create(CultureInfo.InvariantCulture, $"must be a number of seconds from 0 to {MaxSeconds:N0}"));
        return null;
    }

    private const double MaxSeconds = RunService.MaxDurationMs / 1000.0;

    public DateTimeOffset? Time(string name)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind == JsonValueKind.String && DbTime.TryParseIso(value.GetString()!, out var t, out var dateOnly) && !dateOnly)
            return t;
        Fail(name, "must be an ISO-8601 date-time such as 2026-11-21T08:00:00Z");
        return null;
    }

    /// The most JSON one field holds (a payload, a context, a step's input or output).
    public const int MaxRawJson = 16 * 1024 * 1024;

    /// Any JSON value, kept as its raw text. Null when absent or JSON null.
    public string? RawJson(string name, int maxBytes = MaxRawJson)
    {
        if (!TryGet(name, out var value)) return null;
        var raw = value.GetRawText();
        if (OverBytes(raw, maxBytes)) { Fail(name, $"must be at most {maxBytes:N0} bytes of JSON"); return null; }
        return raw;
    }

    /// Longer than `maxBytes` as stored (UTF-8), not in characters: a text of é's passed at twice the limit. The bytes
    /// are counted only when they could matter (UTF-8 takes at most three bytes a UTF-16 character).
    public static bool OverBytes(string text, int maxBytes) =>
        text.Length > maxBytes || (text.Length > maxBytes / 3 && System.Text.Encoding.UTF8.GetByteCount(text) > maxBytes);

    /// A JSON object, kept as its raw text; any other JSON value is refused. Null when absent or JSON null.
    public string? RawJsonObject(string name, int maxBytes = 1024 * 1024)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Object) { Fail(name, "must be a JSON object"); return null; }
        return RawJson(name, maxBytes);
    }

    /// An array of strings checked like `Strings`, kept as JSON text (how the store holds it). Null when absent.
    public string? StringsJson(string name, int maxItems, int maxLength) =>
        Strings(name, maxItems, maxLength) is { } items ? JsonSerializer.Serialize(items) : null;

    public JsonBody? Child(string name)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Object) { Fail(name, "must be a JSON object"); return null; }
        return new JsonBody(value, Path(name) + ".", _errors);
    }

    public IReadOnlyList<JsonBody>? Array(string name, int maxItems)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Array) { Fail(name, "must be a JSON array"); return null; }
        if (value.GetArrayLength() > maxItems) { Fail(name, $"must have at most {maxItems} items"); return null; }
        var items = new List<JsonBody>();
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"{Path(name)}[{i.ToString(CultureInfo.InvariantCulture)}]";
            if (item.ValueKind != JsonValueKind.Object) Add(_errors, path, "must be a JSON object");
            else items.Add(new JsonBody(item, path + ".", _errors));
            i++;
        }
        return items;
    }

    /// An array of strings, each checked like `String`; null when absent.
    public IReadOnlyList<string>? Strings(string name, int maxItems, int maxLength)
    {
        if (!TryGet(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Array) { Fail(name, "must be a JSON array of strings"); return null; }
        if (value.GetArrayLength() > maxItems) { Fail(name, $"must have at most {maxItems} items"); return null; }
        var items = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            { Fail(name, "must hold only non-empty strings"); return null; }
            if (item.GetString()!.Length > maxLength) { Fail(name, $"items must be at most {maxLength} characters"); return null; }
            if (DisguisedText.Find(item.GetString()!) is not null) { Fail(name, DisguisedText.Rule); return null; }
            items.Add(item.GetString()!);
        }
        return items;
    }

    public string? Status(string name, Func<string?, string?> normalize, string accepted)
    {
        var text = String(name, 40);
        if (text is null) return null;
        var status = normalize(text);
        if (status is null) Fail(name, $"must be one of {accepted}");
        return status;
    }
}
