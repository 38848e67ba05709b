using Htmx;
using Microsoft.AspNetCore.Http;

namespace RunMonitor.Tests.Htmx;

/// What the app relies on from the Htmx package beyond what the page tests see: triggers chained in one call merge
/// into one JSON header (Control sends a toast and `runsChanged` together), and 286 stops a poll.
public sealed class HtmxPackageTests
{
    [Fact]
    public void WithTrigger_Chained_MergeIntoOneJsonHeader()
    {
        var context = new DefaultHttpContext();

        context.Response.Htmx(h => h.WithTrigger("runsChanged").WithTrigger("showToast", new { message = "Retried", level = "success" }));
        context.Response.Htmx(h => h.WithTrigger("settled", timing: HtmxTriggerTiming.AfterSettle));

        Assert.Equal("""{"runsChanged":"","showToast":{"message":"Retried","level":"success"}}""", context.Response.Headers["HX-Trigger"].ToString());
        Assert.Equal("settled", context.Response.Headers["HX-Trigger-After-Settle"].ToString());
    }

    [Fact]
    public void StopPolling_Answers286()
    {
        var context = new DefaultHttpContext();

        context.Response.StopPolling();

        Assert.Equal(286, context.Response.StatusCode);
    }
}
