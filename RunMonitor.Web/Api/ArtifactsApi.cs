using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Api;

public sealed record ArtifactJson(string Id, string Name, string ContentType, long Size, string Sha256, DateTimeOffset CreatedAt, string Url)
{
    public static ArtifactJson From(ArtifactRow a) =>
        new(a.Id, a.Name, a.ContentType, a.Size, a.Sha256, DbTime.Parse(a.CreatedAt), ArtifactsApi.UrlFor(a.Id));
}

/// Artifacts (SPEC "JSON API"): upload a step's file as a raw body, list a step's files, download one.
public static partial class ArtifactsApi
{
    public const string NameText = "1-200 characters, no control characters, / or \\, not . or ..";

    // Types a browser may show in place; anything else only downloads.
    private static readonly HashSet<string> ViewableTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "text/plain", "application/json", "text/csv", "text/markdown", "image/png", "image/jpeg", "image/gif", "image/webp",
    };

    [GeneratedRegex(@"^[^\x00-\x1f\x7f/\\]{1,200}$")]
    private static partial Regex NamePattern();

    public static string UrlFor(string artifactId) => Routes.Path(Routes.ApiArtifact, ("artifactId", artifactId));

    public static string ViewUrlFor(string artifactId) => UrlFor(artifactId) + "?disposition=inline";

    // Types a download is served as (DownloadType): no script, no markup, no style sheet. Anything else, SVG and HTML
    // included, goes as application/octet-stream.
    private static readonly HashSet<string> SafeTypes = new(ViewableTypes, StringComparer.OrdinalIgnoreCase)
    {
        "application/pdf", "application/zip", "application/gzip", "application/x-tar", "application/x-ndjson", "application/octet-stream",
    };

    public static bool IsViewable(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type) && ViewableTypes.Contains(type.MediaType.Value ?? "");

    public static IEndpointRouteBuilder MapArtifactsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Routes.ApiStepArtifacts, UploadAsync).RequireAuthorization(Policies.RequireIngest);
        app.MapRead(Routes.ApiStepArtifacts, ListAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery(RunTenant.Parameter);
        app.MapRead(Routes.ApiArtifact, DownloadAsync).RequireAuthorization(Policies.RequireRead).AcceptsQuery("disposition");
        return app;
    }

    private static async Task<IResult> UploadAsync(string id, string stepId, HttpContext http, RunViews runs, ArtifactStore artifacts, CancellationToken ct)
    {
        var errors = new Dictionary<string, List<string>>();
        foreach (var key in http.Request.Query.Keys.Where(k => k is not ("name" or RunTenant.Parameter)))
            errors[key] = ["is not a parameter here; accepted: name (and tenant, for a super admin)"];
        var name = http.Request.Query["name"];
        if (name.Count != 1 || string.IsNullOrWhiteSpace(name[0])) errors["name"] = ["is required, once: the artifact's file name"];
        else if (!NamePattern().IsMatch(name[0]!) || name[0] is "." or "..") errors["name"] = [$"must be {NameText}"];
        else if (DisguisedText.Find(name[0]!) is not null) errors["name"] = [DisguisedText.Rule];
        var contentType = "application/octet-stream";
        if (http.Request.ContentType is { Length: > 0 } given)
        {
            if (given.Length > 200 || !MediaTypeHeaderValue.TryParse(given, out var parsed) || parsed.MediaType.Value?.Contains('/') != true)
                errors["Content-Type"] = ["must be a media type such as text/plain or application/zip (at most 200 characters)"];
            else contentType = parsed.ToString();
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        if (await runs.GetAsync(RunTenant.Of(http), id, ct) is not { } run) return Problems.RunNotFound(id);
        if (await runs.GetStepAsync(run, stepId, ct) is null) return StepNotFound(id, stepId);

        var max = artifacts.MaxBytes;
        if (http.Request.ContentLength > max) return TooLarge(max);
        // The server's own body limit (30 MB by default) would cut in first; this endpoint counts for itself.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        using var blob = await artifacts.StageAsync(http.Request.Body, max, ct);
        if (blob is null) return TooLarge(max);
        var row = await artifacts.AddAsync(run.TenantId, id, stepId, name[0]!, contentType, blob, ct);
        if (row is null) return Problems.RunNotFound(id);
        // Like every worker write, the answer tells the worker whether its run is being cancelled.
        var body = System.Text.Json.JsonSerializer.SerializeToNode(ArtifactJson.From(row), JsonAnswer.Options)!.AsObject();
        body["cancelRequested"] = (await runs.GetAsync(run.TenantId, id, ct))?.IsCancelRequested ?? false;
        return Results.Created(UrlFor(row.Id), body);
    }

    private static async Task<IResult> ListAsync(string id, string stepId, HttpContext http, RunViews runs, ArtifactStore artifacts, CancellationToken ct)
    {
        if (await runs.GetAsync(RunTenant.Of(http), id, ct) is not { } run) return Problems.RunNotFound(id);
        if (await runs.GetStepAsync(run, stepId, ct) is null) return StepNotFound(id, stepId);
        var rows = await artifacts.ListAsync(run, stepId, ct);
        return Results.Ok(rows.Select(ArtifactJson.From).ToList());
    }

    private static async Task<IResult> DownloadAsync(string artifactId, HttpContext http, ArtifactStore artifacts, CancellationToken ct)
    {
        var disposition = http.Request.Query["disposition"].ToString();
        if (disposition is not ("" or "attachment" or "inline"))
            return Problems.BadParameter(new BadParameter("disposition", "accepts attachment (default) or inline"));
        var artifact = await artifacts.GetAsync(http.Caller().TenantId, artifactId, ct);
        if (artifact is null) return ArtifactNotFound(artifactId);
        var stream = await artifacts.OpenReadAsync(artifact, ct);
        if (stream is null) return ArtifactNotFound(artifactId);

        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "private, max-age=3600";
        // Shown in place or saved, an uploaded file never runs script on this origin: the page's policy allows 'self'.
        headers.ContentSecurityPolicy = DownloadPolicy;
        // The bytes of an artifact never change (its id names one sha256): a strong validator, and ranges to resume.
        var etag = new EntityTagHeaderValue($"\"{artifact.Sha256}\"");
        var modified = DbTime.Parse(artifact.CreatedAt);
        if (disposition == "inline" && IsViewable(artifact.ContentType))
        {
            var inline = new ContentDispositionHeaderValue("inline");
            inline.SetHttpFileName(DownloadName(artifact));
            headers.ContentDisposition = inline.ToString();
            return Results.File(stream, InlineType(artifact.ContentType), null, modified, etag, enableRangeProcessing: true);
        }
        return Results.File(stream, DownloadType(artifact.ContentType), DownloadName(artifact), modified, etag, enableRangeProcessing: true);
    }

    private const string DownloadPolicy = "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'none'";

    /// What a download is served as: the stored type when it is one no browser runs or renders as a page of this
    /// origin, else application/octet-stream. The artifact's JSON keeps the type the engine gave.
    public static string DownloadType(string contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || type.MediaType.Value is not { } media || !SafeTypes.Contains(media))
            return "application/octet-stream";
        // Only a UTF-8 charset is passed on: the media type alone for anything else.
        return type.Charset.Value is { } charset && charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) ? $"{media}; charset=utf-8" : media;
    }

    // Viewable images as themselves, viewable text as plain text.
    private static string InlineType(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type) && type.MediaType.Value is { } media && media.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            ? media : "text/plain; charset=utf-8";

    // A name stored before disguising characters were refused still never reaches a download's file name.
    private static string DownloadName(ArtifactRow artifact) => DisguisedText.Reveal(artifact.Name);

    private static IResult StepNotFound(string id, string stepId) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Step not found", detail: $"Run '{id}' has no step '{stepId}'.");

    private static IResult ArtifactNotFound(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Artifact not found", detail: $"No artifact '{id}' is visible to you.");

    private static IResult TooLarge(long max) =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Artifact too large",
            detail: $"an artifact may be at most {max:N0} bytes (RunMonitor:Artifacts:MaxBytes)");
}
