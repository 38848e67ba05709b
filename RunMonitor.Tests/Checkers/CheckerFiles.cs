namespace RunMonitor.Tests.Checkers;

/// The checkers the build copies beside the tests from npm (RunMonitor.Tests/package.json).
public static class CheckerFiles
{
    public static string AxePath => Beside("axe.min.js");

    public static string VnuPath => Beside("vnu.jar");

    private static string Beside(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "checkers", name);
        if (!File.Exists(path)) throw new InvalidOperationException($"{path} is missing: the test build copies it from RunMonitor.Tests/node_modules (npm ci).");
        return path;
    }
}
