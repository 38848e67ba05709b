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

    public sealed record Failure(string Type, string Message, string Stack);

    /// How a step of each skill fails, as its engine would say it: the reflection engines are Zos ones (Python
    /// tracebacks), the campaign engine an omeercs one (TypeScript, Node's stack). Two ways each, drawn at random; a
    /// skill the catalog does not know (a run someone else queued for the demo worker) fails as its engine's steps do.
    public static Failure FailureOf(string? skillId, bool omeercs, Random random)
    {
        var ways = skillId is not null && FailuresBySkill.TryGetValue(skillId, out var known) ? known
            : omeercs ? FailuresBySkill["publish.manifest"] : FailuresBySkill["llm.reflect"];
        return ways[random.Next(ways.Length)];
    }

    public static readonly IReadOnlyDictionary<string, Failure[]> FailuresBySkill = new Dictionary<string, Failure[]>
    {
        ["config.generate"] =
        [
            Node("ValidationError", "game config: 'rounds' must be between 1 and 10 (got 12)",
                "at validateConfig (/srv/engine/skills/config/generate.ts:58:11)", "at generateConfig (/srv/engine/skills/config/generate.ts:31:3)"),
            ProviderTimeout("campaign-writer", 30_000),
        ],
        ["audio.compose"] =
        [
            Node("LoudnessCheckError", "generated track measured -9.1 LUFS, above the -14 LUFS ceiling",
                "at checkLoudness (/srv/engine/skills/audio/loudness.ts:27:11)", "at composeTrack (/srv/engine/skills/audio/compose.ts:84:5)"),
            ProviderTimeout("audio-composer", 120_000),
        ],
        ["build.bundle"] =
        [
            Node("BundleError", "esbuild failed: Could not resolve \"./assets/bgm.ogg\"",
                "at buildBundle (/srv/engine/skills/build/bundle.ts:141:13)"),
            Node("BundleSizeError", "game.bundle.js is 2.4 MB, over the 1.5 MB budget",
                "at checkBudget (/srv/engine/skills/build/budget.ts:19:11)", "at buildBundle (/srv/engine/skills/build/bundle.ts:152:5)"),
        ],
        ["publish.manifest"] =
        [
            Node("ValidationError", "manifest.json: field 'entry' must be a relative path",
                "at validateManifest (/srv/engine/skills/publish/manifest.ts:44:11)", "at writeManifest (/srv/engine/skills/publish/manifest.ts:90:3)"),
            Node("UploadError", "CDN upload failed: 503 Service Unavailable (after 3 attempts)",
                "at uploadFile (/srv/engine/skills/publish/cdn.ts:67:15)", "at async publishManifest (/srv/engine/skills/publish/manifest.ts:112:5)"),
        ],
        ["targets.select"] =
        [
            Sql("QueryCanceled", "canceling statement due to statement timeout", ("/app/zos/targets/select.py", 64, "select_targets", "rows = await conn.execute(TARGETS_SQL, params)")),
            Python("psycopg.OperationalError", "connection failed: connection to server at \"10.0.3.12\", port 5432 failed: Connection refused",
                ("/app/zos/db.py", 31, "connect", "return await AsyncConnection.connect(self.dsn)"),
                ("/app/.venv/lib/python3.12/site-packages/psycopg/connection_async.py", 119, "connect", "raise last_ex.with_traceback(None)")),
        ],
        ["history.gather"] =
        [
            Sql("QueryCanceled", "canceling statement due to statement timeout", ("/app/zos/history/gather.py", 88, "gather_history", "rows = await conn.execute(HISTORY_SQL, params)")),
            Python("KeyError", "'messages'",
                ("/app/zos/history/gather.py", 102, "gather_history", "for message in payload[\"messages\"]:")),
        ],
        ["llm.reflect"] = LlmFailures("generating reflection for 14 users"),
        ["llm.summarize"] = LlmFailures("summarizing 7 days of reflections"),
        ["llm.digest"] = LlmFailures("digesting 412 messages"),
        ["insights.store"] =
        [
            Sql("UniqueViolation", "duplicate key value violates unique constraint \"insights_user_day_key\"", StoreInsights),
            Sql("QueryCanceled", "canceling statement due to lock timeout", StoreInsights),
        ],
        ["channel.fetch"] = SlackFailures("fetch", "conversations.history", "ratelimited"),
        ["channel.post"] = SlackFailures("post", "chat.postMessage", "not_in_channel"),
    };

    // A property, not a field: the table above is built first, when a field further down would still be empty.
    private static (string, int, string, string) StoreInsights =>
        ("/app/zos/insights/store.py", 57, "store_insights", "await conn.execute(INSERT_SQL, rows)");

    /// A database error as psycopg raises it from a query of `frame`.
    private static Failure Sql(string error, string message, (string, int, string, string) frame) =>
        Python("psycopg.errors." + error, message, frame,
            ("/app/.venv/lib/python3.12/site-packages/psycopg/cursor_async.py", 97, "execute", "raise ex.with_traceback(None)"));

    /// A model or media provider that did not answer in time, as omeercs's provider client reports it from its timer.
    private static Failure ProviderTimeout(string provider, int ms) =>
        Node("ProviderTimeoutError", $"{provider} did not answer within {ms} ms",
            "at Timeout._onTimeout (/srv/engine/llm/provider.ts:112:18)", "at listOnTimeout (node:internal/timers:581:17)");

    private static Failure[] LlmFailures(string doing) =>
    [
        Python("TimeoutError", $"Model call exceeded 60s while {doing}",
            ("/app/zos/layers/executor.py", 212, "run_node", "result = await self._call_model(node, prompt, timeout=60)"),
            ("/app/zos/llm/client.py", 88, "_call_model", "return await asyncio.wait_for(self._provider.complete(request), timeout)"),
            ("/usr/lib/python3.12/asyncio/tasks.py", 520, "wait_for", "raise TimeoutError from exc_val")),
        Python("zos.llm.errors.RateLimitError", "429 Too Many Requests from provider: retry after 30s",
            ("/app/zos/layers/executor.py", 212, "run_node", "result = await self._call_model(node, prompt, timeout=60)"),
            ("/app/zos/llm/client.py", 97, "_call_model", "response.raise_for_status()"),
            ("/app/.venv/lib/python3.12/site-packages/httpx/_models.py", 829, "raise_for_status", "raise HTTPStatusError(message, request=request, response=self)")),
    ];

    private static Failure[] SlackFailures(string verb, string method, string error) =>
    [
        Python("slack_sdk.errors.SlackApiError", $"The request to the Slack API failed. (url: https://slack.com/api/{method}) The server responded with: {{'ok': False, 'error': '{error}'}}",
            ($"/app/zos/channels/{verb}.py", 41, $"{verb}_channel", $"response = await self._client.{method.Replace('.', '_')}(**params)"),
            ("/app/.venv/lib/python3.12/site-packages/slack_sdk/web/async_slack_response.py", 197, "validate", "raise e.SlackApiError(message=msg, response=self)")),
        Python("TimeoutError", $"Slack API {method} did not answer within 30s",
            ($"/app/zos/channels/{verb}.py", 41, $"{verb}_channel", $"response = await self._client.{method.Replace('.', '_')}(**params)"),
            ("/usr/lib/python3.12/asyncio/tasks.py", 520, "wait_for", "raise TimeoutError from exc_val")),
    ];

    /// A Python traceback, innermost frame last, ending in the exception's qualified name and message; the run's type
    /// is the qualified name (the page shows its last part).
    private static Failure Python(string type, string message, params (string File, int Line, string Function, string Code)[] frames) =>
        new(type, message, "Traceback (most recent call last):\n"
            + string.Concat(frames.Select(f => $"  File \"{f.File}\", line {f.Line}, in {f.Function}\n    {f.Code}\n"))
            + $"{type}: {message}");

    /// A Node stack as omeercs's worker prints it: the error's name and message, its own frames, then the runtime's.
    private static Failure Node(string type, string message, params string[] frames) =>
        new(type, message, $"{type}: {message}\n"
            + string.Concat(frames.Select(f => "    " + f + "\n"))
            + "    at async runStep (/srv/engine/runtime/step-runner.ts:77:20)\n"
            + "    at async executeRun (/srv/engine/runtime/run-executor.ts:203:9)");

    /// What a partial run of a reflection workflow skipped, why, and at which of that workflow's steps.
    public static readonly IReadOnlyDictionary<string, (string Topic, string Error, string Node)[]> PartialErrors =
        new Dictionary<string, (string, string, string)[]>
        {
            ["nightly-user-reflection"] = UserSkips,
            ["weekly-self-reflection"] = UserSkips,
            ["channel-digest"] =
            [
                ("channel:#support", "Slack API returned channel_not_found", "fetch_messages"),
                ("thread:1712", "Model returned invalid JSON: Unexpected token } at position 512", "digest"),
                ("thread:0448", "Context window exceeded (131,072 tokens)", "digest"),
                ("channel:#growth", "Slack API returned not_in_channel", "post_digest"),
            ],
        };

    // A property, not a field: the table above is built first, when a field further down would still be empty.
    private static (string, string, string)[] UserSkips =>
    [
        ("user:4411", "Insight rejected by safety filter", "store_insights"),
        ("user:1290", "Not enough messages in window (3 < 5)", "reflect"),
        ("user:8823", "Model returned invalid JSON: Unexpected token } at position 512", "reflect"),
        ("user:0932", "Context window exceeded (131,072 tokens)", "reflect"),
        ("user:2764", "Insight not stored: lock timeout after 3 tries", "store_insights"),
    ];

    /// The demo's alert rules, as `RunMonitor:Alerts` would name them: every kind once. Acme's spend fires from the start
    /// (its history alone costs more than $10 a day), so the banner and the events are seen at once; the others watch the
    /// live runs and fire only when something goes wrong (the demo worker stalls, failures pile up).
    public static readonly IReadOnlyDictionary<string, string?> AlertRules = new[]
    {
        new[] { "acme-daily-spend", "costPerDay", "10", null, null, "acme" },
        ["failing-runs", "failureRate", "0.3", "1440", null, null],
        ["runs-stuck", "stuckRuns", "1", "15", null, null],
        ["queue-backlog", "queueDepth", "25", null, null, null],
        ["nightly-silent", "silence", null, "1500", "nightly-user-reflection", null],
    }.SelectMany((rule, n) => new[] { "Name", "Kind", "Threshold", "WindowMinutes", "Workflow", "Tenant" }
        .Select((field, i) => KeyValuePair.Create($"RunMonitor:Alerts:{n}:{field}", rule[i]))
        .Where(setting => setting.Value is not null))
    .ToDictionary();

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
