using System.Globalization;
using System.Threading.RateLimiting;

namespace RunMonitor.Web.Security;

/// Keys that failed to check out (a bearer key or a sign-in), counted per client address by ASP.NET Core's rate
/// limiter: past `RunMonitor:RateLimits:FailedKeyChecksPerMinute` in a minute, every key that address presents is
/// answered 429 with `Retry-After` until the minute is over, right or wrong, so guessing gains nothing by speed.
public sealed class FailedKeyChecks : IDisposable
{
    public const string Setting = "RunMonitor:RateLimits:FailedKeyChecksPerMinute";
    public const int DefaultPerMinute = 10;
    private const string BlockedItem = "runmonitor:key-checks-blocked";

    private readonly PartitionedRateLimiter<string> _limiter;

    public FailedKeyChecks(IConfiguration configuration)
    {
        var perMinute = RateLimits.PerMinute(configuration, Setting, DefaultPerMinute);
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    /// True when this client's failures used up the minute; the wait is then kept for `WriteRefusalAsync`.
    public bool IsBlocked(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(RateLimits.ClientKey(context), 0);
        if (lease.IsAcquired) return false;
        context.Items[BlockedItem] = RateLimits.RetryAfter(lease);
        return true;
    }

    public void RecordFailure(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(RateLimits.ClientKey(context), 1);
    }

    public static bool WasBlocked(HttpContext context) => context.Items.ContainsKey(BlockedItem);

    public static Task WriteRefusalAsync(HttpContext context) =>
        RateLimits.WriteTooManyAsync(context, (TimeSpan)context.Items[BlockedItem]!, "too many keys that were not valid came from your address");

    public void Dispose() => _limiter.Dispose();
}

/// What the sign-in limit and the failed-key limit share: the client's address as the partition, the 429.
public static class RateLimits
{
    public const string SignInPolicy = "sign-in";
    public const string SignInSetting = "RunMonitor:RateLimits:SignInsPerMinute";
    public const int DefaultSignInsPerMinute = 10;

    public static int PerMinute(IConfiguration configuration, string setting, int fallback)
    {
        var text = configuration[setting];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1_000_000
            ? n : throw new InvalidOperationException($"{setting} must be a whole number from 1 to 1000000");
    }

    /// The client's address as the forwarded headers left it (the proxy's client when `KnownProxies` trusts it).
    public static string ClientKey(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromMinutes(1);

    public static Task WriteTooManyAsync(HttpContext context, TimeSpan retryAfter, string why)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Refusal.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests", $"{why}; try again in {seconds} s");
    }

    /// POST /login: at most `RunMonitor:RateLimits:SignInsPerMinute` sign-in attempts a minute per client address.
    public static IServiceCollection AddRunMonitorRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var signIns = PerMinute(configuration, SignInSetting, DefaultSignInsPerMinute);
        services.AddSingleton<FailedKeyChecks>();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(SignInPolicy, context => HttpMethods.IsPost(context.Request.Method)
                ? RateLimitPartition.GetFixedWindowLimiter(ClientKey(context),
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = signIns, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(""));
            o.OnRejected = (rejected, _) => new ValueTask(WriteTooManyAsync(rejected.HttpContext, RetryAfter(rejected.Lease), "too many sign-in attempts came from your address"));
        });
        return services;
    }
}
