using Microsoft.AspNetCore.Mvc.ModelBinding;
using RunMonitor.Web;
using RunMonitor.Web.Admin;
using RunMonitor.Web.Bulk;
using RunMonitor.Web.Alerts;
using RunMonitor.Web.Api;
using RunMonitor.Web.Data;
using RunMonitor.Web.Demo;
using RunMonitor.Web.Pages;
using RunMonitor.Web.Pages.Runs;
using RunMonitor.Web.Runs;
using RunMonitor.Web.SavedViews;
using RunMonitor.Web.Security;
using RunMonitor.Web.Webhooks;
using RunMonitor.Web.Wire;

// The dashboard speaks English with invariant numbers and dates whatever the host's locale (LANG=de_DE would
// otherwise write "524.288 bytes" in a 413 and "vor 3 Minuten" beside an English label).
System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.DefaultThreadCurrentUICulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentUICulture = System.Globalization.CultureInfo.InvariantCulture;

// `--demo` is a flag of ours; left in, the configuration's parser would take the next argument as its value.
var demo = args.Contains("--demo");
var builder = WebApplication.CreateBuilder(args.Where(a => a != "--demo").ToArray());
if (demo) builder.Configuration["RunMonitor:Demo"] = "true";
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
// A request's code runs on the thread-pool thread that read its bytes, not on a second one Kestrel queues it to: one
// hand-off less per request (the run page 4% faster, docs/PERFORMANCE.md). Socket completions still come to the pool
// (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS stays off), so no request ever runs on the socket engine's own thread.
builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);

// A SQLite file path (the default), or a PostgreSQL connection string for several instances sharing one store.
var database = Database.FromSetting(builder.Configuration["RunMonitor:Database"] ?? "App_Data/runmonitor.db", builder.Environment.ContentRootPath,
    Database.ParseDurability(builder.Configuration[Database.DurabilitySetting]));
// Commands run against the store and exit; the web host is never built.
if (args is ["keys", .. var keyArgs]) return await KeysCommand.RunAsync(keyArgs, database, builder.Configuration, Console.Out, Console.Error);
if (args is ["copy-store", .. var copyArgs]) return await CopyStoreCommand.RunAsync(copyArgs, Console.Out, Console.Error);
// Registered through a factory so the container disposes it at shutdown (the writer's connection closes).
builder.Services.AddSingleton(_ => database);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<MigrationRunner>();
// The SQL dialect is chosen once, here, with the engine; each room below takes it from the container.
builder.Services.AddSqlDialect(database);
builder.Services.AddSingleton<RunListQuery>();
builder.Services.AddSingleton<RunList>();
builder.Services.AddSingleton<RunExport>();
builder.Services.AddSingleton<StatsStore>();
builder.Services.AddSingleton<RunViews>();
builder.Services.AddSingleton<RunWrites>();
builder.Services.AddSingleton<CreateGroups>();
builder.Services.AddSingleton<RunService>();
builder.Services.Configure<LogOptions>(builder.Configuration.GetSection("RunMonitor:Logs"));
builder.Services.AddSingleton<LogStore>();
builder.Services.AddSingleton<BatchIngest>();
builder.Services.AddSingleton<RunQueue>();
builder.Services.AddRunEvents(database);
builder.Services.AddHostedService<LeaseSweeper>();
builder.Services.AddSingleton<NameIndexer>();
builder.Services.AddHostedService(services => services.GetRequiredService<NameIndexer>());
builder.Services.Configure<WebhookOptions>(builder.Configuration.GetSection("RunMonitor"));
builder.Services.AddSingleton<WebhookOutbox>();
builder.Services.AddSingleton<IRunPurgeListener>(sp => sp.GetRequiredService<WebhookOutbox>());
builder.Services.AddHttpClient(WebhookDispatcher.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
builder.Services.AddHostedService<WebhookDispatcher>();
builder.Services.Configure<ArtifactOptions>(builder.Configuration.GetSection("RunMonitor:Artifacts"));
builder.Services.AddSingleton<ArtifactStore>();
builder.Services.Configure<PriceOptions>(builder.Configuration.GetSection("RunMonitor"));
builder.Services.AddSingleton<PriceTable>();
builder.Services.AddSingleton<SavedViewStore>();
builder.Services.AddBulkOperations(builder.Configuration);
builder.Services.AddSingleton<WorkerBook>();
builder.Services.AddSingleton<IRunPurgeListener>(sp => sp.GetRequiredService<WorkerBook>());
builder.Services.AddSingleton<AlertRuleSet>();
builder.Services.AddSingleton<AlertEvaluator>();
builder.Services.AddSingleton<IRunPurgeListener, AlertEventRetention>();
builder.Services.AddHostedService(services => services.GetRequiredService<AlertEvaluator>());
if (builder.Configuration.GetValue<bool>("RunMonitor:Demo"))
{
    // The demo shows alerts at work: its own rules, unless the configuration names some.
    if (!builder.Configuration.GetSection(AlertRuleSet.Section).GetChildren().Any(c => c.Key != "IntervalSeconds"))
        builder.Configuration.AddInMemoryCollection(DemoCatalog.AlertRules);
    builder.Services.AddSingleton<DemoData>();
    builder.Services.AddHostedService<DemoWorker>();
}

builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(o => JsonAnswer.Configure(o.SerializerOptions));
builder.Services.AddRazorPages(o => o.Conventions.ConfigureFilter(new PageRequestFilter()))
    // No page binds jQuery-style keys (a[b][c]); their parser throws on an unbalanced "[" in any query or form key.
    .AddMvcOptions(o =>
    {
        o.ValueProviderFactories.RemoveType<JQueryQueryStringValueProviderFactory>();
        o.ValueProviderFactories.RemoveType<JQueryFormValueProviderFactory>();
    });
builder.Services.AddRunMonitorSecurity(builder.Configuration);
builder.Services.AddSharedKeyRing(database);
builder.Services.AddRunMonitorAdmin(builder.Configuration);
builder.Services.AddRunMonitorWire();
builder.Services.AddSingleton<InlineStyle>();

var app = builder.Build();
app.Services.ValidateApiKeys();
// Alert rules are checked as the keys are: a rule that cannot mean anything stops the start, naming its key.
app.Services.GetRequiredService<AlertRuleSet>();

await app.Services.GetRequiredService<MigrationRunner>().ApplyAsync();
if (args is ["seed", ..])
{
    var (prices, clock) = (app.Services.GetRequiredService<PriceTable>(), app.Services.GetRequiredService<TimeProvider>());
    // PostgreSQL is seeded through a SQLite staging file, then copied.
    Environment.ExitCode = database.IsPostgres
        ? await SeedPostgresCommand.RunAsync(args, database, prices, clock, Console.Out, Console.Error)
        : await SeedCommand.RunAsync(args, database, prices, clock, Console.Out, Console.Error);
    return Environment.ExitCode;
}
if (app.Services.GetService<DemoData>() is { } demoData) await demoData.SeedIfEmptyAsync();

app.UseRunMonitorTransport(app.Configuration);
// Before the error and status-code pages, so they are compressed too.
app.UseResponseCompression();
app.UseExceptionHandler();
app.UseStatusCodePages(ErrorPages.StatusCodeAsync);
app.UseMiddleware<SecurityHeaders>();
// Routing first: a request for an endpoint (every page, fragment and API call) then skips the static file
// middleware's look at the disk; a file is still served before authentication, as a public asset.
app.UseRouting();
app.UseStaticFiles(WireSetup.StaticFiles());
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.UseMiddleware<StorableText>();
app.UseMiddleware<RunTenantGuard>();
app.UseMiddleware<AcceptedQueryGuard>();
app.UseMiddleware<AntiforgeryGuard>();
app.UseAntiforgery();

app.MapRead(Routes.Home, () => Results.Redirect(Routes.Runs)).RequireAuthorization(Policies.RequireRead).AcceptsQuery();
app.MapRazorPages();
app.MapRunsApi();
app.MapControlApi();
app.MapRunEvents();
app.MapArtifactsApi();
app.MapPayloadApi();
app.MapAccountEndpoints();
app.MapAdminApi();
app.MapSavedViews();
app.MapActivityApi();
app.MapBulkApi();
app.MapLogsApi();
app.MapBatchIngest();
app.MapWorkersApi();
app.MapAlertsApi();

app.Run();
return 0;

public partial class Program;
