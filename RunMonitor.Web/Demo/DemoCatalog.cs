using System.Text.Json;

namespace RunMonitor.Web.Demo;

/// What demo runs are made of: tenants, the four workflows with their steps, names, errors and models.
public static class DemoCatalog
{
    public static readonly string[] Tenants = ["acme", "globex", "initech"];

    public sealed record Workflow(string Name, (string StepId, string SkillId, int MinMs, int MaxMs)[] Steps, bool Reflection);

    public static readonly Workflow[] Workflows =
    [
        new("campaign_generation",
            [("game_config", "config.generate", 800, 2500), ("bgm_track", "audio.compose", 2000, 6000),
             ("bundle_game", "build.bundle", 4000, 15000), ("manifest", "publish.manifest", 300, 1200)], false),
        new("nightly-user-reflection",
            [("select_targets", "targets.select", 200, 900), ("reflect", "llm.reflect", 5000, 40000),
             ("store_insights", "insights.store", 300, 1500)], true),
        new("weekly-self-reflection",
            [("gather_history", "history.gather", 1000, 4000), ("reflect", "llm.reflect", 15000, 90000),
             ("summarize", "llm.summarize", 3000, 12000), ("store_insights", "insights.store", 300, 1500)], true),
        new("channel-digest",
            [("fetch_messages", "channel.fetch", 800, 3000), ("digest", "llm.digest", 4000, 20000),
             ("post_digest", "channel.post", 200, 800)], true),
    ];

    public static readonly string[] CampaignNames =
    [
        "Black Friday Blast", "Winter Wonderland Spin", "Spring Sale Scratchcard", "Summer Splash Quiz",
        "Holiday Memory Match", "Back to School Wheel", "Valentine's Lucky Draw", "Cyber Monday Puzzle",
        "New Year Countdown", "Loyalty Level-Up", "Halloween Haunt Hunt", "Easter Egg Dash",
    ];

    public static readonly string[] Channels = ["#general", "#product", "#support", "#growth", "#eng-alerts"];

    public static readonly (string Profile, string Provider, string Model)[] Models =
    [
        ("reflection-default", "anthropic", "claude-sonnet-4-5"),
        ("reflection-cheap", "openai", "gpt-4o-mini"),
        ("digest", "openai", "gpt-4o"),
        ("reflection-fast", "anthropic", "claude-haiku-4-5"),
    ];

    public static readonly (string Type, string Message, string Stack)[] Failures =
    [
        ("TimeoutError", "Model call exceeded 60s while generating reflection for 14 users",
            """
            Traceback (most recent call last):
              File "/app/zos/layers/executor.py", line 212, in run_node
                result = await self._call_model(node, prompt, timeout=60)
              File "/app/zos/llm/client.py", line 88, in _call_model
                return await asyncio.wait_for(self._provider.complete(request), timeout)
              File "/usr/lib/python3.12/asyncio/tasks.py", line 520, in wait_for
                raise TimeoutError from exc_val
            TimeoutError: Model call exceeded 60s while generating reflection for 14 users
            """),
        ("BundleError", "esbuild failed: Could not resolve \"./assets/bgm.ogg\"",
            """
            BundleError: esbuild failed: Could not resolve "./assets/bgm.ogg"
                at buildBundle (/srv/engine/skills/build/bundle.ts:141:13)
                at async runStep (/srv/engine/runtime/step-runner.ts:77:20)
                at async executeRun (/srv/engine/runtime/run-executor.ts:203:9)
                at async Worker.claimLoop (/srv/engine/worker.ts:58:7)
            """),
        ("RateLimitError", "429 Too Many Requests from provider: retry after 30s",
            """
            Traceback (most recent call last):
              File "/app/zos/layers/executor.py", line 212, in run_node
                result = await self._call_model(node, prompt, timeout=60)
              File "/app/zos/llm/client.py", line 97, in _call_model
                response.raise_for_status()
              File "/app/.venv/lib/python3.12/site-packages/httpx/_models.py", line 829, in raise_for_status
                raise HTTPStatusError(message, request=request, response=self)
            zos.llm.errors.RateLimitError: 429 Too Many Requests from provider: retry after 30s
            """),
        ("ValidationError", "manifest.json: field 'entry' must be a relative path",
            """
            ValidationError: manifest.json: field 'entry' must be a relative path
                at validateManifest (/srv/engine/skills/publish/manifest.ts:44:11)
                at writeManifest (/srv/engine/skills/publish/manifest.ts:90:3)
                at async runStep (/srv/engine/runtime/step-runner.ts:77:20)
            """),
    ];

    public static readonly (string Topic, string Error)[] PartialErrors =
    [
        ("user:4411", "Insight rejected by safety filter"),
        ("user:1290", "Not enough messages in window (3 < 5)"),
        ("channel:#support", "Slack API returned channel_not_found"),
        ("user:8823", "Model returned invalid JSON: Unexpected token } at position 512"),
        ("user:0932", "Context window exceeded (131,072 tokens)"),
    ];

    public static string Json(object value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);

    // The campaign engine is an omeercs one: it versions its workflow, hashes step input and codes its errors.
    public const string OmeercsWorkflow = "campaign_generation";
    public const string OmeercsVersion = "2.3.1";

    public static string InputHash(string input) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(input)))[..16];

    /// `TimeoutError` → `TIMEOUT_ERROR`, `IOError` → `IO_ERROR`, as omeercs spells its codes.
    public static string ErrorCode(string type) => string.Concat(type.Select((c, i) =>
        (i > 0 && char.IsUpper(c) && (char.IsLower(type[i - 1]) || (i + 1 < type.Length && char.IsLower(type[i + 1]))) ? "_" : "")
        + char.ToUpperInvariant(c)));
}
