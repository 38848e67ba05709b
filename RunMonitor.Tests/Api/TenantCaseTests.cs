using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Tests.Security;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Api;

/// omeercs's tenant is a Clerk organization id (`org_2NxQ8kLmZpYwVbT3`) and its entities always carry it: a tenant id
/// given with capitals is read in lowercase wherever it enters (a body's `tenantId`, `?tenant=`, a key's tenant) and
/// stored so; anything else outside [a-z0-9_-] is still refused.
public class TenantCaseTests(KeyedFactory factory) : IClassFixture<KeyedFactory>
{
    private const string Clerk = "org_2NxQ8kLmZpYwVbT3";
    private const string Folded = "org_2nxq8klmzpywvbt3";

    private readonly HttpClient _admin = factory.Bearer(KeyedFactory.SuperAdminKey);

    private static string OmeercsRun(string id, string tenant = Clerk) => $$"""
        {"tenantId":"{{tenant}}","createdAt":"2026-11-21T11:49:58.120Z","updatedAt":"2026-11-21T11:49:58.120Z","id":"{{id}}",
         "workflowName":"campaign.build","workflowVersion":"1.0.0","triggerType":"initial","triggerPayload":{"campaignId":"cmp_1"},
         "status":"running","baseRunId":null,"error":null,"context":null,"startedAt":"2026-11-21T11:50:00.000Z",
         "completedAt":null,"durationMs":null}
        """;

    private static string OmeercsStep(string runId, string tenant = Clerk) => $$"""
        {"tenantId":"{{tenant}}","createdAt":"2026-11-21T11:50:00.010Z","updatedAt":"2026-11-21T11:50:02.020Z",
         "id":"9b2d7c1e-4f0a-4c3b-8e55-0a7d5e2f9c40","runId":"{{runId}}","stepId":"game_config","skillId":"config.generate",
         "status":"completed","inputHash":"sha256:3f9a0c","attempt":1,"outputArtifactIds":null,"error":null,
         "startedAt":"2026-11-21T11:50:00.000Z","endedAt":"2026-11-21T11:50:02.000Z","durationMs":2000,"cacheHit":false}
        """;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<HttpClient> IngestKeyAsync(string tenant) =>
        factory.Bearer((await factory.Services.GetRequiredService<ApiKeyStore>().CreateAsync(tenant, Roles.Ingest)).Secret);

    [Fact]
    public async Task Post_OmeercsRunBySuperAdmin_LandsInTheLowercaseTenant()
    {
        var response = await _admin.PostAsync("/api/runs", Json(OmeercsRun("tc-super")));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(Folded, (string?)(await _admin.GetJsonAsync($"/api/runs/tc-super?tenant={Folded}"))["tenantId"]);
        Assert.Equal(Folded, (string?)(await _admin.GetJsonAsync($"/api/runs/tc-super?tenant={Folded.ToUpperInvariant()}"))["tenantId"]);
        var listed = (await _admin.GetJsonAsync($"/api/runs?tenant={Clerk}"))["items"]!.AsArray();
        Assert.Contains("tc-super", listed.Select(r => (string)r!["id"]!));
    }

    [Fact]
    public async Task IngestKeyOfTheTenant_OmeercsRunStepAndWholeUpdate_Accepted()
    {
        var engine = await IngestKeyAsync(Folded);

        var created = await engine.PostAsync("/api/runs", Json(OmeercsRun("tc-key")));
        var step = await engine.PutAsync("/api/runs/tc-key/steps/game_config", Json(OmeercsStep("tc-key")));
        var updated = await engine.PatchAsync("/api/runs/tc-key", Json(OmeercsRun("tc-key").Replace("\"status\":\"running\"", "\"status\":\"completed\"")));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, step.StatusCode);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var run = await engine.GetJsonAsync("/api/runs/tc-key");
        Assert.Equal((Folded, "completed"), ((string?)run["tenantId"], (string?)run["status"]));
        Assert.Equal(["completed"], (await engine.GetJsonAsync("/api/runs/tc-key/steps")).AsArray().Select(s => (string)s!["status"]!));
    }

    [Fact]
    public async Task CreateKey_TenantWithCapitals_IsKeptInLowercase()
    {
        var (key, _) = await factory.Services.GetRequiredService<ApiKeyStore>().CreateAsync(Clerk, Roles.Viewer);

        Assert.Equal(Folded, key.TenantId);
        Assert.Null(ApiKeyStore.Validate(Clerk, Roles.Viewer));
    }

    [Fact]
    public async Task KeyOfAnotherTenant_OmeercsRun_Still403()
    {
        var response = await factory.Bearer("alpha", "ingest").PostAsync("/api/runs", Json(OmeercsRun("tc-other")));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/runs/tc-other")).StatusCode);
    }

    [Theory]
    [InlineData("org.2NxQ8kLmZpYwVbT3")]
    [InlineData("org 2NxQ8kLmZpYwVbT3")]
    [InlineData("ÖRG_2NxQ8kLmZpYwVbT3")]
    [InlineData("org/2NxQ8kLmZpYwVbT3")]
    public async Task Tenant_OutsideAsciiLettersDigitsUnderscoreAndHyphen_Still400(string tenant)
    {
        var id = "tc-bad-" + tenant.Length;
        var body = OmeercsRun(id, "TENANT").Replace("\"TENANT\"", System.Text.Json.JsonSerializer.Serialize(tenant));
        var escaped = Uri.EscapeDataString(tenant);

        var created = await _admin.PostAsync("/api/runs", Json(body));
        var listed = await _admin.GetAsync($"/api/runs?tenant={escaped}");
        var read = await _admin.GetAsync($"/api/runs/{id}?tenant={escaped}");

        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        var problem = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.Equal("must be 1-64 of a-z, 0-9, _ and - (capitals are read as lowercase)", (string?)problem["errors"]!["tenantId"]![0]);
        Assert.Equal(HttpStatusCode.BadRequest, listed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, read.StatusCode);
    }

    /// `$` let a final line break through the pattern (the control-character check caught it after).
    [Fact]
    public async Task Post_TenantEndingInALineBreak_400NamingWhatIsAccepted()
    {
        var response = await _admin.PostAsync("/api/runs", Json(OmeercsRun("tc-break", "org_2NxQ8kLmZpYwVbT3\\n")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("must be 1-64 of a-z, 0-9, _ and - (capitals are read as lowercase)", (string?)problem["errors"]!["tenantId"]![0]);
    }

    /// The tenant parameter of every route that takes one.
    [Theory]
    [InlineData("/api/workers?tenant=ORG_2NXQ8KLMZPYWVBT3")]
    [InlineData("/api/alerts?tenant=ORG_2NXQ8KLMZPYWVBT3")]
    [InlineData("/ui/runs/stats?tenant=ORG_2NXQ8KLMZPYWVBT3")]
    [InlineData("/ui/runs?tenant=ORG_2NXQ8KLMZPYWVBT3")]
    [InlineData("/ui/workers?tenant=ORG_2NXQ8KLMZPYWVBT3")]
    public async Task TenantParameterWithCapitals_Accepted(string url)
    {
        var response = await _admin.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BatchIngest_TenantParameterWithCapitals_WritesTheLowercaseTenant()
    {
        var response = await _admin.PostAsync($"/api/ingest?tenant={Clerk}", new StringContent(string.Join("\n",
            """{"type":"run","id":"tc-batch","workflowName":"campaign.build","status":"running"}""",
            """{"type":"step","runId":"tc-batch","stepId":"game_config","tenantId":"ORG_2NXQ8KLMZPYWVBT3","status":"completed"}"""),
            Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Folded, (string?)(await _admin.GetJsonAsync($"/api/runs/tc-batch?tenant={Folded}"))["tenantId"]);
    }
}

public sealed class TenantCaseTestsOnPostgres(PostgresKeyedFactory factory) : TenantCaseTests(factory), IClassFixture<PostgresKeyedFactory>;
