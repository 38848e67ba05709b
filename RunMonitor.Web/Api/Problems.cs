using System.Globalization;
using System.Text.RegularExpressions;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Api;

/// RFC 7807 answers for the JSON API: each names what was wrong and what is accepted.
public static partial class Problems
{
    /// A bad line of a line-by-line body (`line 3.status`, `line 3`) also gives `line` and `field` as members, as a
    /// batch that was refused whole (409, 404) does: a script reads the same two members whatever went wrong.
    public static IResult Validation(Dictionary<string, List<string>> errors) =>
        Results.ValidationProblem(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()),
            detail: string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}")),
            title: "The request has invalid fields",
            extensions: errors.Keys.FirstOrDefault() is { } first && LineKey().Match(first) is { Success: true } line
                ? new Dictionary<string, object?>
                {
                    ["line"] = long.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture),
                    ["field"] = line.Groups[2].Success ? line.Groups[2].Value : null,
                }
                : null);

    [GeneratedRegex(@"^line (\d{1,9})(?:\.(.+))?$")]
    private static partial Regex LineKey();

    public static IResult BadParameter(BadParameter error) => BadParameters([error]);

    /// Every bad parameter of a request: an `errors` entry each, in the query's order.
    public static IResult BadParameters(IEnumerable<BadParameter> errors) =>
        Validation(errors.GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToList()));

    public static IResult RunNotFound(string id) =>
        Results.Problem(statusCode: WriteOutcomeStatus.Of(WriteOutcome.NotFound), title: "Run not found", detail: $"No run '{id}' is visible to you.");

    public static IResult Status(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);

    public static IResult From<T>(WriteResult<T> result, string? id) => result.Outcome == WriteOutcome.Invalid
        ? Validation(new() { [result.Field ?? "body"] = [result.Reason ?? "is not valid"] })
        : From(result.Outcome, result.Reason, id);

    public static IResult From(WriteOutcome outcome, string? reason, string? id) => outcome switch
    {
        WriteOutcome.NotFound => RunNotFound(id ?? ""),
        WriteOutcome.Conflict => Status(WriteOutcomeStatus.Of(outcome), "Conflict", reason ?? "the run's state does not allow this"),
        WriteOutcome.Forbidden => Status(WriteOutcomeStatus.Of(outcome), "Forbidden", reason ?? "your key may not do this"),
        WriteOutcome.Invalid => Validation(new() { ["body"] = [reason ?? "is not valid"] }),
        _ => Status(StatusCodes.Status500InternalServerError, "Unexpected outcome", outcome.ToString()),
    };
}
