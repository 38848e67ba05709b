namespace RunMonitor.Web.Pages.Shared;

/// The header's switches (SPEC "Views and preferences"): how times read and which theme, each remembered in a
/// cookie of its own that the page's script writes. The server reads them to write `data-theme` and `data-time`
/// on `<html>`, so the chosen theme is there before the first paint (no flash of the other one).
public sealed record Preferences(string Theme, string Time)
{
    public const string ThemeCookie = "runmonitor-theme";
    public const string TimeCookie = "runmonitor-time";
    public static readonly IReadOnlyList<string> Themes = ["auto", "light", "dark"];
    public static readonly IReadOnlyList<string> Times = ["relative", "local", "utc"];

    public static Preferences Of(HttpRequest request) => new(
        Pick(request.Cookies[ThemeCookie], Themes),
        Pick(request.Cookies[TimeCookie], Times));

    // An unknown or missing value is the default (the first): a cookie is the browser's to change.
    private static string Pick(string? value, IReadOnlyList<string> allowed) => value is not null && allowed.Contains(value) ? value : allowed[0];

    public static string Label(string value) => value switch
    {
        "utc" => "UTC",
        _ => char.ToUpperInvariant(value[0]) + value[1..],
    };
}
