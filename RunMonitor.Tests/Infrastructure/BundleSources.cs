namespace RunMonitor.Tests.Infrastructure;

/// The bundles' sources in the order the build joins them (RunMonitor.Web.csproj's BundleCss and BundleJs), paths under
/// wwwroot: one list for every test that checks a bundle, so a source added to the build is added here once.
public static class BundleSources
{
    public static readonly string[] Css =
        ["css/site.css", "css/detail.css", "css/control.css", "css/admin.css", "css/views.css", "css/bulk.css", "css/logs.css", "css/workers.css"];

    public static readonly string[] Js =
        ["js/app.js", "js/detail.js", "js/control.js", "js/admin.js", "js/times.js", "js/views.js", "js/bulk.js", "js/logs.js"];
}
