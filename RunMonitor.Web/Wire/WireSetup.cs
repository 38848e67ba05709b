using System.IO.Compression;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.ResponseCompression;

namespace RunMonitor.Web.Wire;

/// What goes over the wire: pages in few writes, compressed text, and versioned assets cached for a year.
public static class WireSetup
{
    /// Text the app writes; event streams and already-compressed artifacts (zip, png, gzip…) are not listed, so never compressed.
    public static readonly string[] CompressedTypes =
    [
        "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
        "application/problem+json", "text/plain", "text/csv", "image/svg+xml",
    ];

    public const string ImmutableCacheControl = "public, max-age=31536000, immutable";
    public const string DefaultCacheControl = "public, max-age=3600";

    public static IServiceCollection AddRunMonitorWire(this IServiceCollection services)
    {
        services.AddSingleton<IHttpResponseStreamWriterFactory, PageWriters>();
        services.AddResponseCompression(o =>
        {
            // Cookies are same-site and the pages carry no secret an attacker could probe by size (BREACH needs both).
            o.EnableForHttps = true;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = CompressedTypes;
            o.ExcludedMimeTypes = ["text/event-stream"];
        });
        // Fastest: a run page compresses in microseconds at this level; the denser ones cost the fragments' p99 (docs/PERFORMANCE.md).
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        return services;
    }

    /// Static files: a `?v=` URL names one version of the file for good, so it is cached for a year and never revalidated.
    public static StaticFileOptions StaticFiles() => new()
    {
        OnPrepareResponse = ctx => ctx.Context.Response.Headers.CacheControl =
            ctx.Context.Request.Query.ContainsKey("v") ? ImmutableCacheControl : DefaultCacheControl,
    };
}
