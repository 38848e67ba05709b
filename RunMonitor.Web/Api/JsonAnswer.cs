using System.Text.Json;

namespace RunMonitor.Web.Api;

/// How answers are written: the web defaults (camelCase), with room to nest what was stored. A body is read at most
/// `BodyDepth` levels deep, so a stored value nests almost that far, and an answer puts it a few levels further down
/// (a claim's run, its steps, a step, its input; a webhook's event, its run, the run's context). At the writer's own
/// limit, also 64, a value the reader had accepted made every answer about its run fail after the write was committed.
public static class JsonAnswer
{
    public const int BodyDepth = 64;

    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// The same limit on options made elsewhere (the minimal APIs' `JsonOptions`).
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.MaxDepth = 2 * BodyDepth;
        return options;
    }
}
