using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Infrastructure;

/// Step reports and rows the ingest API cannot write (a retry link), for the run page's tests.
public static class StepIngest
{
    public static async Task PutStepAsync(this HttpClient client, string runId, string stepId, object body)
    {
        var response = await client.PutAsJsonAsync($"/api/runs/{runId}/steps/{stepId}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PUT step {stepId} answered {(int)response.StatusCode}: {text}");
    }

    /// Inserts a run row as is (the retry endpoint belongs to another slice; its rows look like this).
    public static Task InsertRunAsync(this RunMonitorFactory factory, RunRow run) =>
        factory.Services.GetRequiredService<Database>().WriteAsync((connection, tx) => RunWrites.InsertRunAsync(connection, tx, run));
}
