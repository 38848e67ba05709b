using Microsoft.AspNetCore.Http;
using RunMonitor.Web.Htmx;

namespace RunMonitor.Tests.Htmx;

public sealed class HtmxTests
{
    [Fact]
    public void IsHtmx_WithHeader_ReadsEveryValue()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["HX-Request"] = "true";
        context.Request.Headers["HX-Trigger"] = "run-filters";
        context.Request.Headers["HX-Target"] = "runs-list";
        context.Request.Headers["HX-Boosted"] = "true";
        context.Request.Headers["HX-Current-URL"] = "http://x/ui/runs";

        var isHtmx = context.Request.IsHtmx(out var values);

        Assert.True(isHtmx);
        Assert.Equal("run-filters", values!.Trigger);
        Assert.Equal("runs-list", values.Target);
        Assert.True(values.Boosted);
        Assert.Equal("http://x/ui/runs", values.CurrentUrl);
        Assert.False(context.Request.IsHtmxNonBoosted());
    }

    [Fact]
    public void IsHtmx_WithoutHeader_IsFalse()
    {
        var context = new DefaultHttpContext();

        Assert.False(context.Request.IsHtmx());
        Assert.False(context.Request.IsHtmx(out var values));
        Assert.Null(values);
        Assert.False(context.Request.IsHtmxHistoryRestore());
    }

    [Fact]
    public void WithTrigger_SeveralCalls_MergeIntoOneJsonHeader()
    {
        var context = new DefaultHttpContext();

        context.Response.Htmx(h => h.WithTrigger("runsChanged"));
        context.Response.Htmx(h => h.WithTrigger("showToast", new { message = "Retried", level = "success" }));
        context.Response.Htmx(h => h.WithTrigger("settled", timing: HtmxTriggerTiming.AfterSettle));

        Assert.Equal("""{"runsChanged":"","showToast":{"message":"Retried","level":"success"}}""", context.Response.Headers["HX-Trigger"].ToString());
        Assert.Equal("""{"settled":""}""", context.Response.Headers["HX-Trigger-After-Settle"].ToString());
    }

    [Fact]
    public void ResponseHeaders_SetTheirNames()
    {
        var context = new DefaultHttpContext();

        context.Response.Htmx(h => h.PushUrl("/ui/runs?status=failed").Retarget("#toasts").Reswap("beforeend").ReplaceUrl("/r").Location("/l").Redirect("/d").Refresh().Reselect(".x"));

        var headers = context.Response.Headers;
        Assert.Equal("/ui/runs?status=failed", headers["HX-Push-Url"].ToString());
        Assert.Equal("#toasts", headers["HX-Retarget"].ToString());
        Assert.Equal("beforeend", headers["HX-Reswap"].ToString());
        Assert.Equal("/r", headers["HX-Replace-Url"].ToString());
        Assert.Equal("/l", headers["HX-Location"].ToString());
        Assert.Equal("/d", headers["HX-Redirect"].ToString());
        Assert.Equal("true", headers["HX-Refresh"].ToString());
        Assert.Equal(".x", headers["HX-Reselect"].ToString());
    }

    [Fact]
    public void StopPolling_Answers286()
    {
        var context = new DefaultHttpContext();

        context.Response.StopPolling();

        Assert.Equal(286, context.Response.StatusCode);
    }
}
