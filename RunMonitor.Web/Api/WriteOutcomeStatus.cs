using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Api;

/// The one write-outcome → HTTP status map, for the JSON API (`Problems`) and the UI's POSTs (`ControlModel`).
public static class WriteOutcomeStatus
{
    public static int Of(WriteOutcome outcome) => outcome switch
    {
        WriteOutcome.Ok => StatusCodes.Status200OK,
        WriteOutcome.Created => StatusCodes.Status201Created,
        WriteOutcome.NotFound => StatusCodes.Status404NotFound,
        WriteOutcome.Conflict => StatusCodes.Status409Conflict,
        WriteOutcome.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status400BadRequest,
    };
}
