using System.Text.Json;
using System.Text.Json.Nodes;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Web.Pages.Runs;

/// The retry dialog's "Edit input" (issue 19): the run's trigger payload in a textarea, sent back with the retry.
/// Text equal to the old payload as JSON is no edit; anything else must be JSON within ingest's limit.
public static class EditedInput
{
    public const string Field = "triggerPayload";
    /// Larger payloads are not put in a textarea; the API still takes them.
    public const int MaxEditableLength = 64 * 1024;

    public static bool IsEditable(RunRow run) => (run.TriggerPayload?.Length ?? 0) <= MaxEditableLength;

    /// The payload as the textarea shows it: indented JSON, or empty for none.
    public static string Show(string? payload)
    {
        if (payload is null) return "";
        try
        {
            return JsonNode.Parse(payload)?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? "null";
        }
        catch (JsonException)
        {
            return payload;
        }
    }

    /// The request with the edited payload, or the reason the text is refused (400).
    public static (RetryRequest? Request, BadParameter? Error) Apply(RetryRequest request, string? submitted, string? oldPayload)
    {
        if (submitted is null) return (request, null);
        if (JsonBody.OverBytes(submitted, JsonBody.MaxRawJson))
            return (null, new BadParameter(Field, $"must be at most {JsonBody.MaxRawJson:N0} bytes of JSON"));
        if (!StorableText.IsStorable(submitted)) return (null, new BadParameter(Field, StorableText.Rule));
        if (string.IsNullOrWhiteSpace(submitted))
            return oldPayload is null ? (request, null) : (null, new BadParameter(Field, "must be JSON; write null for no payload"));
        JsonNode? edited;
        try
        {
            edited = JsonNode.Parse(submitted, documentOptions: new JsonDocumentOptions { MaxDepth = JsonAnswer.BodyDepth });
        }
        catch (JsonException e)
        {
            return (null, new BadParameter(Field, $"must be JSON: {e.Message}"));
        }
        if (JsonBody.FindInvalidText(JsonDocument.Parse(submitted).RootElement) is not null)
            return (null, new BadParameter(Field, StorableText.Rule));
        var old = oldPayload is null ? null : JsonNode.Parse(oldPayload);
        if (JsonNode.DeepEquals(edited, old)) return (request, null);
        return (request with { PayloadEdited = true, TriggerPayload = edited?.ToJsonString() }, null);
    }
}
