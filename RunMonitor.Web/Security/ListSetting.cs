namespace RunMonitor.Web.Security;

public static class ListSetting
{
    /// A setting that holds several values: a list (`Key:0`, `Key:1`, as env `Key__0`) or one comma-separated value.
    public static IReadOnlyList<string> GetList(this IConfiguration configuration, string key)
    {
        var section = configuration.GetSection(key);
        return section.GetChildren().Select(c => c.Value).Append(section.Value)
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
    }
}
