using System.Net;
using Microsoft.AspNetCore.Mvc;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Pages;

/// The small fixed fragments every UI route answers with: a bad parameter (400) and a missing run (404).
public static class Fragments
{
    public static ContentResult BadParameter(BadParameter error) => Html(StatusCodes.Status400BadRequest, BadParameterHtml(error));

    public static string BadParameterHtml(BadParameter error) =>
        $"<p class=\"error\" role=\"alert\" data-parameter=\"{WebUtility.HtmlEncode(error.Name)}\"><strong>{WebUtility.HtmlEncode(error.Name)}</strong> {WebUtility.HtmlEncode(error.Message)}</p>";

    public static ContentResult RunNotFound() => Html(StatusCodes.Status404NotFound, "<p>Run not found</p>");

    public static ContentResult Html(int status, string html) =>
        new() { StatusCode = status, ContentType = "text/html; charset=utf-8", Content = html };
}
