using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

using RunMonitor.Web.Api;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Pages.Runs;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;
using RunMonitor.Web.Webhooks;

var builder = WebApplication.CreateBuilder(args);
var demo = args.Contains("--demo");
if (demo) builder.Configuration["RunMonitor:Demo"] = "true";
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
    builder.WebHost.UseUrls("http://127.0.0.1:5080");

var databasePath = builder.Configuration["RunMonitor:Database"] ?? "App_Data/runmonitor.db";
builder.Services.AddSingleton(new Database(Path.IsPathRooted(databasePath)
    ? databasePath
    : Path.Combine(builder.Environment.ContentRootPath, databasePath)));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<MigrationRunner>();
builder.Services.AddSingleton<RunStore>();
builder.Services.AddSingleton<RunService>();
builder.Services.AddSingleton<IRunEvents, InProcessRunEvents>();
builder.Services.AddHostedService<LeaseSweeper>();
builder.Services.Configure<WebhookOptions>(builder.Configuration.GetSection("RunMonitor"));
builder.Services.AddSingleton<WebhookOutbox>();
builder.Services.AddHttpClient(WebhookDispatcher.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
builder.Services.AddHostedService<WebhookDispatcher>();
builder.Services.Configure<ArtifactOptions>(builder.Configuration.GetSection("RunMonitor:Artifacts"));
builder.Services.AddSingleton<ArtifactStore>();
builder.Services.Configure<PriceOptions>(builder.Configuration.GetSection("RunMonitor"));
builder.Services.AddSingleton<PriceTable>();
if (builder.Configuration.GetValue<bool>("RunMonitor:Demo"))
{
    builder.Services.AddSingleton<DemoData>();
    builder.Services.AddHostedService<DemoWorker>();
}

builder.Services.AddProblemDetails();
builder.Services.AddRazorPages();
builder.Services.AddAntiforgery(o => o.HeaderName = "RequestVerificationToken");
builder.Services.AddAuthentication(LoopbackAuthenticationHandler.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, LoopbackAuthenticationHandler>(LoopbackAuthenticationHandler.SchemeName, null);
builder.Services.AddAuthorizationBuilder()
    .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

var app = builder.Build();

await app.Services.GetRequiredService<MigrationRunner>().ApplyAsync();
if (args is ["seed", ..])
{
    Environment.ExitCode = await SeedCommand.RunAsync(args, app.Services.GetRequiredService<Database>(),
        app.Services.GetRequiredService<PriceTable>(), app.Services.GetRequiredService<TimeProvider>(), Console.Out, Console.Error);
    return;
}
if (app.Services.GetService<DemoData>() is { } demoData) await demoData.SeedIfEmptyAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<SecurityHeaders>();
app.UseStaticFiles(new StaticFileOptions { OnPrepareResponse = ctx => ctx.Context.Response.Headers.CacheControl = "public, max-age=3600" });
app.UseRouting();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapGet("/", () => Results.Redirect("/ui/runs"));
app.MapRazorPages();
app.MapRunsApi();
app.MapControlApi();
app.MapRunEvents();
app.MapArtifactsApi();
app.MapPayloadApi();

app.Run();

public partial class Program;
