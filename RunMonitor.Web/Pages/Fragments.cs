using System.Net;
using Microsoft.AspNetCore.Mvc;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages;

/// The small fixed fragments every UI route answers with: a bad parameter (400) and a missing run (404).
public static class Fragments
{
    public static ContentResult BadParameter(BadParameter error) => BadParameters([error]);

    /// Every bad parameter of a request, each its own `p.error` as a single one is (scripts read the first).
    public static ContentResult BadParameters(IReadOnlyList<BadParameter> errors) => Html(StatusCodes.Status400BadRequest, BadParametersHtml(errors));

    public static string BadParametersHtml(IEnumerable<BadParameter> errors) => string.Join("\n", errors.Select(BadParameterHtml));

    public static string BadParameterHtml(BadParameter error) =>
        $"<p class=\"error\" role=\"alert\" data-parameter=\"{WebUtility.HtmlEncode(error.Name)}\"><strong>{WebUtility.HtmlEncode(error.Name)}</strong> {WebUtility.HtmlEncode(error.Message)}</p>";

    public static ContentResult RunNotFound() => Html(StatusCodes.Status404NotFound, "<p>Run not found</p>");

    public static ContentResult Html(int status, string html) =>
        new() { StatusCode = status, ContentType = "text/html; charset=utf-8", Content = html };
}
