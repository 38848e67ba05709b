using Microsoft.Extensions.Logging.Abstractions;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Security;

/// `dotnet run --project RunMonitor.Web -- keys create --tenant acme --role operator | keys list | keys revoke <id>`:
/// manages stored keys against the configured database and exits, without starting the web server.
public static class KeysCommand
{
    public const string Usage = """
        usage:
          keys create --role viewer|operator|ingest|admin [--tenant <tenant>]   prints the new key once
          keys list                                                             every key, without secrets
          keys revoke <id>                                                      the key stops working at once
        An admin key without --tenant sees every tenant; with one it is limited to that tenant.
        """;

    public static async Task<int> RunAsync(string[] args, Database database, IConfiguration configuration,
        TextWriter output, TextWriter error, CancellationToken ct = default)
    {
        await new MigrationRunner(database, NullLogger<MigrationRunner>.Instance).ApplyAsync(ct);
        ApiKeyStore store;
        try { store = new ApiKeyStore(database, TimeProvider.System, configuration); }
        catch (InvalidOperationException e) { await error.WriteLineAsync(e.Message); return 1; }

        switch (args)
        {
            case ["create", .. var options]:
                string? tenant = null, role = null;
                for (var i = 0; i < options.Length; i++)
                {
                    switch (options[i])
                    {
                        case "--tenant" when i + 1 < options.Length: tenant = options[++i]; break;
                        case "--role" when i + 1 < options.Length: role = options[++i]; break;
                        default:
                            await error.WriteLineAsync($"keys create: unexpected '{options[i]}'\n{Usage}");
                            return 2;
                    }
                }
                var problem = role is null ? "--role is required" : ApiKeyStore.Validate(tenant, role);
                if (problem is not null)
                {
                    await error.WriteLineAsync($"keys create: {problem}\n{Usage}");
                    return 2;
                }
                var (key, secret) = await store.CreateAsync(tenant, role!, ct);
                await output.WriteLineAsync($"Created key {key.Id} (role {key.Role}, tenant {key.TenantId ?? "every tenant"}).");
                await output.WriteLineAsync("Copy it now: it is stored hashed and will not be shown again.");
                await output.WriteLineAsync(secret);
                return 0;

            case ["list"]:
                await output.WriteLineAsync($"{"ID",-14} {"PREFIX",-14} {"ROLE",-9} {"TENANT",-20} {"CREATED",-25} STATE");
                foreach (var k in await store.ListAsync(ct))
                {
                    var state = k.Source == "config" ? "configured" : k.RevokedAt is null ? "active" : "revoked " + k.RevokedAt;
                    await output.WriteLineAsync($"{k.Id,-14} {k.Prefix + "…",-14} {k.Role,-9} {k.TenantId ?? "(every tenant)",-20} {k.CreatedAt ?? "-",-25} {state}");
                }
                return 0;

            case ["revoke", var id]:
                if (id.StartsWith("config-", StringComparison.Ordinal))
                {
                    await error.WriteLineAsync($"keys revoke: {id} comes from configuration (RunMonitor:ApiKeys); remove it there");
                    return 1;
                }
                if (!await store.RevokeAsync(id, ct))
                {
                    await error.WriteLineAsync($"keys revoke: no active key '{id}' (see keys list)");
                    return 1;
                }
                await output.WriteLineAsync($"Revoked key {id}.");
                return 0;

            default:
                await error.WriteLineAsync(Usage);
                return 2;
        }
    }
}
