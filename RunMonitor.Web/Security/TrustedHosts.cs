namespace RunMonitor.Web.Security;

/// The `Host` names a loopback caller may use and still be trusted while no API key exists: `localhost`,
/// `127.0.0.1` and `[::1]` (any port), and those listed in `RunMonitor:TrustedHosts`. A page the local user
/// visits can rebind its own name to 127.0.0.1; its requests then come from loopback but say `Host: evil.example`.
public sealed class TrustedHosts
{
    public const string Setting = "RunMonitor:TrustedHosts";
    private static readonly string[] Loopback = ["localhost", "127.0.0.1", "[::1]"];

    private readonly HashSet<string> _hosts = new(Loopback, StringComparer.OrdinalIgnoreCase);

    /// `RunMonitor:TrustedHosts` is a list (`…:0`, `…:1`) or one comma-separated value, of host names without a port.
    public TrustedHosts(IConfiguration configuration)
    {
        foreach (var entry in configuration.GetList(Setting))
        {
            var parsed = new HostString(entry);
            if (parsed.Port is not null || entry.Contains('/') || Uri.CheckHostName(parsed.Host.Trim('[', ']')) == UriHostNameType.Unknown)
                throw new InvalidOperationException($"{Setting}: '{entry}' is not a host name (give names such as runmonitor.internal, without scheme or port)");
            _hosts.Add(parsed.Host);
        }
    }

    public bool Admits(HostString host) => host.HasValue && _hosts.Contains(host.Host);

    /// Why a loopback request naming this host is refused, and the setting that would admit it.
    public static string Refusal(HostString host) =>
        $"RunMonitor trusts requests from this machine only when they are addressed to localhost, 127.0.0.1 or [::1] " +
        $"(a page elsewhere can point its own name at this machine); Host '{(host.HasValue ? host.Host : "")}' is not one of them. " +
        $"Add it to {Setting} to admit it, or configure API keys.";
}
