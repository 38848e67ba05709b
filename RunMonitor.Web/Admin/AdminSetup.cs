using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Admin;

public static class AdminSetup
{
    public static IServiceCollection AddRunMonitorAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<AdminStore>();
        services.Configure<RetentionOptions>(configuration.GetSection("RunMonitor"));
        services.AddSingleton<RunPurger>();
        // Artifact files go with their purged runs (issue 3's store implements the hook).
        services.AddSingleton<IRunPurgeListener>(sp => sp.GetRequiredService<ArtifactStore>());
        services.AddHostedService<RetentionWorker>();
        return services;
    }
}
