using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;

namespace RunMonitor.Tests.Security;

/// Names and ids refuse bidi controls and the other invisible format characters (`invoice\u202Efdp.exe` shows as
/// `invoiceexe.pdf`), naming the field; a download's file name and the step panel never show one, even from a row stored before.
public sealed class DisguisedTextTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    public static TheoryData<string, string, string> DisguisedFields => new()
    {
        { "/api/runs", "{\"workflowName\":\"w\",\"name\":\"invoice\\u202efdp.exe\"}", "name" },
        { "/api/runs", "{\"workflowName\":\"pay\\u2066roll\"}", "workflowName" },
        { "/api/runs", "{\"workflowName\":\"w\",\"steps\":[{\"stepId\":\"s1\",\"skillId\":\"a\\u200bb\"}]}", "steps[0].skillId" },
        { "/api/runs", "{\"workflowName\":\"w\",\"usage\":{\"model\":\"gpt\\ufeff4o\"}}", "usage.model" },
        { "/api/runs", "{\"workflowName\":\"w\",\"errors\":[{\"topic\":\"t\\u202a\",\"error\":\"e\"}]}", "errors[0].topic" },
        { "/api/runs", "{\"workflowName\":\"w\",\"name\":\"x\\u2069\"}", "name" },
        { "/api/runs", "{\"workflowName\":\"w\",\"name\":\"tag\\udb40\\udc41\"}", "name" },
        // A flag's tags left unfinished (no cancel tag), and a cancel tag after no tags.
        { "/api/runs", "{\"workflowName\":\"w\",\"name\":\"\\ud83c\\udff4\\udb40\\udc67\\udb40\\udc62 x\"}", "name" },
        { "/api/runs", "{\"workflowName\":\"w\",\"name\":\"\\ud83c\\udff4\\udb40\\udc7f\"}", "name" },
        { "/api/runs", "{\"workflowName\":\"w\",\"id\":\"a\\u202eb\"}", "id" },
        { "/api/queue/claim", "{\"worker\":\"w\\u202d1\"}", "worker" },
        { "/api/queue/claim", "{\"worker\":\"w\",\"workflows\":[\"a\\u061cb\"]}", "workflows" },
        // Control characters: a line break, a terminal's escape, a bell, DEL, a C1 next-line.
        { "/api/runs", "{\"workflowName\":\"w\",\"name\":\"first\\nsecond\"}", "name" },
        { "/api/runs", "{\"workflowName\":\"\\u001b[31mred\"}", "workflowName" },
        { "/api/runs", "{\"workflowName\":\"w\",\"steps\":[{\"stepId\":\"s1\",\"skillId\":\"ding\\u0007\"}]}", "steps[0].skillId" },
        { "/api/runs", "{\"workflowName\":\"w\",\"usage\":{\"provider\":\"open\\u007fai\"}}", "usage.provider" },
        { "/api/runs", "{\"workflowName\":\"w\",\"errors\":[{\"topic\":\"t\",\"error\":\"e\",\"node\":\"n\\u0085\"}]}", "errors[0].node" },
    };

    [Theory]
    [MemberData(nameof(DisguisedFields))]
    public async Task Ingest_NameWithDisguisingCharacter_400NamingTheField(string url, string body, string field)
    {
        var response = await _client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"{field} not named in {errors}");
    }

    // Scotland's flag: the black flag, the tags g, b, s, c, t, and the cancel tag.
    private const string Scotland = "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F";

    [Fact]
    public async Task Ingest_EmojiFlagOfTags_AcceptedAndStoredAsGiven()
    {
        // A Zos topic may name an emoji: the flags of England, Scotland and Wales are spelt in tag characters.
        var response = await _client.PostAsJsonAsync("/api/runs", new { id = "flag-topic", workflowName = "w", name = "Burns night " + Scotland,
            status = "failed", errors = new[] { new { topic = "server:1:emoji:" + Scotland, error = "e" } } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = await _client.GetJsonAsync("/api/runs/flag-topic");
        Assert.Equal("Burns night " + Scotland, (string?)run["name"]);
        Assert.Equal("server:1:emoji:" + Scotland, (string?)run["errors"]![0]!["topic"]);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\u202Eb", "a_b")]
    [InlineData("x" + Scotland + "y", "x" + Scotland + "y")]
    [InlineData("x\U0001F3F4\U000E0067\U000E0062!", "x\U0001F3F4__!")]
    [InlineData("\U000E0067" + Scotland, "_" + Scotland)]
    [InlineData(Scotland + "\U000E007F", Scotland + "_")]
    // Eight tags after a flag, tags that are not a subdivision's letters or digits, one tag alone: hidden text, not a flag.
    [InlineData("\U0001F3F4\U000E0068\U000E0069\U000E0064\U000E0064\U000E0065\U000E006E\U000E0074\U000E0078\U000E007F", "\U0001F3F4_________")]
    [InlineData("\U0001F3F4\U000E0047\U000E0042\U000E007F", "\U0001F3F4___")]
    [InlineData("\U0001F3F4\U000E0067\U000E007F", "\U0001F3F4__")]
    public void Reveal_MarksWhatFindRefuses_AndKeepsAFlagWhole(string text, string revealed)
    {
        Assert.Equal(revealed, Web.Security.DisguisedText.Reveal(text));
        Assert.Equal(text == revealed, Web.Security.DisguisedText.Find(text) is null);
    }

    [Fact]
    public async Task StepPut_SkillIdWithBidiOverride_400()
    {
        await _client.CreateRunAsync(new { id = "bidi-step", workflowName = "w", steps = new[] { new { stepId = "s1" } } });

        var response = await _client.PutAsJsonAsync("/api/runs/bidi-step/steps/s1", new { skillId = "render\u202Egpj" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("skillId", out _));
    }

    [Fact]
    public async Task Ingest_JoinersAndRtlTextAndFreeText_AreKept()
    {
        var run = await _client.CreateRunAsync(new
        {
            workflowName = "w", name = "family 👨\u200D👩\u200D👧 · מבצע חורף",
            error = new { message = "quoted: \u202Eevil\u202C (messages are free text)", stack = "Traceback:\n\tat step()\r\n" },
        });

        Assert.Equal("family 👨\u200D👩\u200D👧 · מבצע חורף", run.GetProperty("name").GetString());
        Assert.Equal("Traceback:\n\tat step()\r\n", run.GetProperty("error").GetProperty("stack").GetString());
    }

    [Fact]
    public async Task ArtifactUpload_NameWithBidiOverride_400AndNothingStored()
    {
        await _client.CreateRunAsync(new { id = "bidi-art", workflowName = "w", steps = new[] { new { stepId = "s1" } } });

        var response = await _client.PostAsync("/api/runs/bidi-art/steps/s1/artifacts?name=" + Uri.EscapeDataString("invoice\u202Efdp.exe"), new StringContent("MZ"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("name", out _));
        Assert.Empty((await _client.GetJsonAsync("/api/runs/bidi-art/steps/s1/artifacts")).AsArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("?disposition=inline")]
    public async Task ArtifactDownload_NameStoredWithBidiOverride_ContentDispositionNeverCarriesIt(string query)
    {
        await _client.CreateRunAsync(new { id = "bidi-old" + query.Length, workflowName = "w", steps = new[] { new { stepId = "s1" } } });
        var upload = await _client.PostAsync($"/api/runs/bidi-old{query.Length}/steps/s1/artifacts?name=invoice.txt", new StringContent("text"));
        var id = (await upload.JsonAsync()).GetProperty("id").GetString()!;
        // A row stored before names were checked.
        await factory.Services.GetRequiredService<Database>().WriteAsync((c, tx) =>
            c.ExecuteAsync("UPDATE artifacts SET name = @Name WHERE id = @Id", new { Name = "invoice\u202Efdp\u2066.exe", Id = id }, tx));

        var download = await _client.GetAsync($"/api/artifacts/{id}{query}");

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        var disposition = string.Join(",", download.Content.Headers.GetValues("Content-Disposition"));
        var decoded = Uri.UnescapeDataString(disposition);
        Assert.DoesNotContain('\u202E', decoded);
        Assert.DoesNotContain('\u2066', decoded);
        Assert.Contains("invoice_fdp_.exe", decoded);
        var panel = await _client.GetDocumentAsync($"/ui/runs/bidi-old{query.Length}/steps/s1");
        Assert.Equal("invoice_fdp_.exe", panel.QuerySelector(".artifact-name").Text());
        Assert.Equal("invoice_fdp_.exe", panel.QuerySelector("a.artifact-download")!.GetAttribute("download"));
    }
}

/// The same on PostgreSQL.
public sealed class DisguisedTextTestsOnPostgres(PostgresFactory factory) : IClassFixture<PostgresFactory>
{
    [Fact]
    public async Task Ingest_NameWithBidiOverride_400OnPostgresToo()
    {
        var response = await factory.CreateClient().PostAsJsonAsync("/api/runs", new { workflowName = "w", name = "invoice\u202Efdp.exe" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("name", out _));
    }
}
