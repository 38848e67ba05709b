using System.Security.Cryptography;
using System.Text;
using Dapper;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Security;

/// A key as the app knows it, never the key itself. `Source` is "config" or "db".
public sealed record ApiKey
{
    public string Id { get; init; } = "";
    public string Prefix { get; init; } = "";
    public string? TenantId { get; init; }
    public string Role { get; init; } = Roles.Viewer;
    public string Source { get; init; } = "db";
    public string? CreatedAt { get; init; }
    public string? RevokedAt { get; init; }
}

/// `RunMonitor:ApiKeys:N:Key|Tenant|Role`.
public sealed class ApiKeyConfig
{
    public string? Key { get; init; }
    public string? Tenant { get; init; }
    public string? Role { get; init; }
}

/// API keys from configuration and from the `api_keys` table. Only SHA-256 hashes are kept and
/// compared (in constant time); a key is 32 random bytes, so a plain hash is enough.
/// An admin key with a tenant is a tenant admin: everything, but only in that tenant.
public sealed class ApiKeyStore
{
    public const string KeyPrefix = "rmk_";
    public const int MinimumKeyLength = 16;
    private static readonly string[] RoleNames = [Roles.Viewer, Roles.Operator, Roles.Ingest, Roles.Admin];

    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<(byte[] Hash, ApiKey Key)> _configured;

    public ApiKeyStore(Database database, TimeProvider time, IConfiguration configuration)
    {
        _database = database;
        _time = time;
        var configured = new List<(byte[], ApiKey)>();
        var section = configuration.GetSection("RunMonitor:ApiKeys");
        foreach (var child in section.GetChildren())
        {
            var entry = child.Get<ApiKeyConfig>() ?? new ApiKeyConfig();
            var where = $"RunMonitor:ApiKeys:{child.Key}";
            if (entry.Key is not { Length: >= MinimumKeyLength } key)
                throw new InvalidOperationException($"{where}:Key must be at least {MinimumKeyLength} characters");
            if (Validate(entry.Tenant, entry.Role ?? "") is { } problem)
                throw new InvalidOperationException($"{where}: {problem}");
            configured.Add((Hash(key), new ApiKey
            {
                Id = "config-" + child.Key, Prefix = key[..Math.Min(8, key.Length)], TenantId = RunFilter.TenantId(NullIfEmpty(entry.Tenant)),
                Role = entry.Role!, Source = "config",
            }));
        }
        _configured = configured;
    }

    /// Null when the pair is valid, else what is wrong. Only an admin may be without a tenant; a tenant is kept as `RunFilter.TenantId` reads it.
    public static string? Validate(string? tenant, string role)
    {
        if (!RoleNames.Contains(role)) return $"role must be one of {string.Join(", ", RoleNames)}";
        tenant = NullIfEmpty(tenant);
        if (tenant is null && role != Roles.Admin) return $"a {role} key needs a tenant (only an admin key may span every tenant)";
        if (tenant is not null && RunFilter.TenantId(tenant) is null) return $"tenant must be {RunFilter.TenantText}";
        return null;
    }

    public static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private const string KeyColumns = """
        id AS Id, prefix AS Prefix, tenant_id AS TenantId, role AS Role, 'db' AS Source,
        created_at AS CreatedAt, revoked_at AS RevokedAt
        """;

    private const string AnyActive = "SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL)";

    // AnyAsync is asked on every request from this machine while no key is configured. Its answer is kept for
    // at most a second (real time, whatever the app's clock says), and forgotten at once when this app makes or
    // revokes a key; a key made elsewhere (the keys command, another instance) counts within that second.
    private volatile KeptAnswer? _anyActive;
    private sealed record KeptAnswer(bool Any, long At);
    private const long AnyActiveMillis = 1000;

    /// Once any key exists (configured, or made and not revoked) every request needs one.
    public async Task<bool> AnyAsync(CancellationToken ct = default)
    {
        if (_configured.Count > 0) return true;
        var now = Environment.TickCount64;
        if (_anyActive is { } known && now - known.At < AnyActiveMillis) return known.Any;
        await using var connection = await _database.OpenAsync(ct);
        var any = await connection.ExecuteScalarAsync<bool>(AnyActive);
        _anyActive = new KeptAnswer(any, now);
        return any;
    }

    private const string SelectByHash = $"SELECT {KeyColumns}, key_hash AS KeyHash FROM api_keys WHERE key_hash = @Hash AND revoked_at IS NULL";

    public async Task<ApiKey?> FindAsync(string presented, CancellationToken ct = default)
    {
        var hash = Hash(presented);
        ApiKey? found = null;
        // Compare with every configured key, in constant time, so timing says nothing about which matched.
        foreach (var (configuredHash, key) in _configured)
        {
            if (CryptographicOperations.FixedTimeEquals(configuredHash, hash)) found = key;
        }
        if (found is not null) return found;
        await using var connection = await _database.OpenAsync(ct);
        var rows = await connection.QueryAsync<ApiKey, string, (ApiKey Key, string Hash)>(SelectByHash, (k, h) => (k, h),
            new { Hash = Convert.ToHexStringLower(hash) }, splitOn: "KeyHash");
        var (stored, storedHash) = rows.SingleOrDefault();
        // The index found it by hash; the comparison that decides is the constant-time one.
        return stored is not null && CryptographicOperations.FixedTimeEquals(Convert.FromHexString(storedHash), hash) ? stored : null;
    }

    private const string SelectActiveById = $"SELECT {KeyColumns} FROM api_keys WHERE id = @Id AND revoked_at IS NULL";

    /// The key behind a sign-in cookie, if it is still valid.
    public async Task<ApiKey?> FindActiveByIdAsync(string id, CancellationToken ct = default)
    {
        if (_configured.FirstOrDefault(c => c.Key.Id == id) is { Key: { } configured }) return configured;
        await using var connection = await _database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ApiKey>(SelectActiveById, new { Id = id });
    }

    private const string InsertKey = """
        INSERT INTO api_keys (id, key_hash, prefix, tenant_id, role, created_at)
        VALUES (@Id, @KeyHash, @Prefix, @TenantId, @Role, @CreatedAt)
        """;

    /// Makes a key; the returned secret is shown once and never stored.
    public async Task<(ApiKey Key, string Secret)> CreateAsync(string? tenant, string role, CancellationToken ct = default)
    {
        if (Validate(tenant, role) is { } problem) throw new ArgumentException(problem);
        var secret = NewKey();
        var key = new ApiKey
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), Prefix = secret[..12],
            TenantId = RunFilter.TenantId(NullIfEmpty(tenant)), Role = role, CreatedAt = DbTime.ToDb(_time.GetUtcNow()),
        };
        await _database.WriteAsync((connection, tx) => connection.ExecuteAsync(InsertKey, new
        {
            key.Id, KeyHash = Convert.ToHexStringLower(Hash(secret)), key.Prefix, key.TenantId, key.Role, key.CreatedAt,
        }, tx), ct);
        _anyActive = null;
        return (key, secret);
    }

    private const string SelectAll = $"SELECT {KeyColumns} FROM api_keys ORDER BY created_at, id";

    public async Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await _database.OpenAsync(ct);
        return [.. _configured.Select(c => c.Key), .. await connection.QueryAsync<ApiKey>(SelectAll)];
    }

    private const string RevokeKey = "UPDATE api_keys SET revoked_at = @Now WHERE id = @Id AND revoked_at IS NULL";

    /// False when no active stored key has that id (configuration keys are removed from configuration).
    public async Task<bool> RevokeAsync(string id, CancellationToken ct = default)
    {
        var revoked = await _database.WriteAsync((connection, tx) =>
            connection.ExecuteAsync(RevokeKey, new { Id = id, Now = DbTime.ToDb(_time.GetUtcNow()) }, tx), ct) == 1;
        _anyActive = null;
        return revoked;
    }
}
