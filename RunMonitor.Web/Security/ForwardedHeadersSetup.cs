using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace RunMonitor.Web.Security;

/// Behind a TLS proxy: `X-Forwarded-For`, `-Proto` and `-Host` are believed only from the addresses listed in
/// `RunMonitor:ForwardedHeaders:KnownProxies` (IP addresses) and `KnownNetworks` (CIDR such as 10.0.0.0/8). With
/// neither set the headers are never read, so `X-Forwarded-For: 127.0.0.1` from outside stays a header.
public static class ForwardedHeadersSetup
{
    public const string Section = "RunMonitor:ForwardedHeaders";

    /// The options when some proxy is trusted, else null (the middleware is then left out).
    public static ForwardedHeadersOptions? Read(IConfiguration configuration)
    {
        var proxies = configuration.GetList(Section + ":KnownProxies");
        var networks = configuration.GetList(Section + ":KnownNetworks");
        if (proxies.Count == 0 && networks.Count == 0) return null;
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
        };
        // The defaults trust loopback; here only what the operator listed is trusted.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in proxies)
        {
            if (!IPAddress.TryParse(proxy, out var address))
                throw new InvalidOperationException($"{Section}:KnownProxies: '{proxy}' is not an IP address");
            options.KnownProxies.Add(address);
        }
        foreach (var network in networks)
        {
            if (!System.Net.IPNetwork.TryParse(network, out var parsed))
                throw new InvalidOperationException($"{Section}:KnownNetworks: '{network}' is not a network in CIDR form such as 10.0.0.0/8");
            options.KnownIPNetworks.Add(parsed);
        }
        return options;
    }

    /// First in the pipeline, so the scheme, host and client address every later part sees are the proxy's client's.
    public static IApplicationBuilder UseRunMonitorForwardedHeaders(this IApplicationBuilder app, IConfiguration configuration) =>
        Read(configuration) is { } options ? app.UseForwardedHeaders(options) : app;
}
