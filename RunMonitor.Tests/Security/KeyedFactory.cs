using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Security;

/// The app with configured keys: every role in tenants `alpha` and `beta`, a tenant admin for alpha
/// and a super admin. Once keys exist, loopback is no longer trusted.
public class KeyedFactory : RunMonitorFactory
{
    public KeyedFactory() : this(TestStore.Sqlite) { }

    protected KeyedFactory(TestStore store) : base(store) { }

    /// Another instance with the same keys on a PostgreSQL database someone else made.
    protected KeyedFactory(string postgresConnectionString) : base(postgresConnectionString) { }

    public static readonly string[] Tenants = ["alpha", "beta"];
    public static readonly string[] RoleNames = [Roles.Viewer, Roles.Operator, Roles.Ingest, Roles.Admin];
    public const string SuperAdminKey = "super-admin-key-0123456789abcdef";

    public static string KeyFor(string tenant, string role) => $"{tenant}-{role}-key-0123456789abcdef";

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>();
            var i = 0;
            foreach (var tenant in Tenants)
            {
                foreach (var role in RoleNames)
                {
                    settings[$"RunMonitor:ApiKeys:{i}:Key"] = KeyFor(tenant, role);
                    settings[$"RunMonitor:ApiKeys:{i}:Tenant"] = tenant;
                    settings[$"RunMonitor:ApiKeys:{i}:Role"] = role;
                    i++;
                }
            }
            settings[$"RunMonitor:ApiKeys:{i}:Key"] = SuperAdminKey;
            settings[$"RunMonitor:ApiKeys:{i}:Role"] = Roles.Admin;
            // Every test signs in and guesses from the one loopback address; RateLimitTests sets its own limits.
            settings[FailedKeyChecks.Setting] = "100000";
            settings[RateLimits.SignInSetting] = "100000";
            return settings;
        }
    }

    public HttpClient Bearer(string key)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public HttpClient Bearer(string tenant, string role) => Bearer(KeyFor(tenant, role));

    public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// A browser-like client signed in through /login; `Token` is the antiforgery token its pages carry. `client`: a
    /// browser that has been here before (its cookies kept), else a new one.
    public async Task<CookieClient> SignInAsync(string key, HttpClient? client = null)
    {
        client ??= CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var login = await client.GetDocumentAsync("/login");
        var token = login.QuerySelector("form input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var response = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = key, ["returnUrl"] = "/ui/runs", ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        return new CookieClient(client, await PageTokenAsync(client), response);
    }

    /// The token the layout puts in `<body hx-headers>` for this signed-in client.
    public static async Task<string> PageTokenAsync(HttpClient client) => BodyToken(await client.GetDocumentAsync("/ui/runs"));

    public static string BodyToken(AngleSharp.Dom.IDocument page) =>
        JsonDocument.Parse(page.Body!.GetAttribute("hx-headers")!).RootElement.GetProperty("RequestVerificationToken").GetString()!;
}

public sealed record CookieClient(HttpClient Client, string Token, HttpResponseMessage LoginResponse);

/// The same keys with the app on PostgreSQL.
public sealed class PostgresKeyedFactory() : KeyedFactory(TestStore.Postgres);
