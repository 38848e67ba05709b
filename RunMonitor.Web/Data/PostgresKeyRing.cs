using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace RunMonitor.Web.Data;

/// The Data Protection key ring in the shared PostgreSQL store, so a sign-in cookie or an antiforgery token
/// issued by one instance is read by every other. (One SQLite instance keeps ASP.NET Core's default: a folder
/// in the user's profile.) Keys are stored as Data Protection writes them; whoever can read the database
/// can read them, as they can read the API key hashes and every run.
public sealed class PostgresKeyRing(string connectionString) : IXmlRepository
{
    private const string SelectKeys = "SELECT xml FROM data_protection_keys ORDER BY id";
    private const string InsertKey = "INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@FriendlyName, @Xml)";

    // Data Protection calls these synchronously, rarely: at start-up and when a key is made or not found.
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = new NpgsqlConnection(connectionString);
        return connection.Query<string>(SelectKeys).Select(x => XElement.Parse(x)).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Execute(InsertKey, new { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}

public static class PostgresKeyRingSetup
{
    /// With PostgreSQL every instance shares one key ring under one application name.
    public static IServiceCollection AddSharedKeyRing(this IServiceCollection services, Database database)
    {
        if (!database.IsPostgres) return services;
        services.AddDataProtection()
            .SetApplicationName("RunMonitor")
            .AddKeyManagementOptions(o => o.XmlRepository = new PostgresKeyRing(database.ConnectionString));
        return services;
    }
}
