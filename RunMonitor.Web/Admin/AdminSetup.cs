using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Admin;

public static class AdminSetup
{
    public static IServiceCollection AddRunMonitorAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<AdminStore>();
        services.Configure<RetentionOptions>(configuration.GetSection("RunMonitor"));
        services.AddSingleton<RunPurger>();
        services.AddHostedService<RetentionWorker>();
        return services;
    }
}
