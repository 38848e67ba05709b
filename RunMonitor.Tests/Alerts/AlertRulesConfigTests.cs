using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Alerts;

namespace RunMonitor.Tests.Alerts;

/// A rule that cannot mean anything stops the start, with a message naming its configuration key (as API keys do).
public sealed class AlertRulesConfigTests
{
    private sealed class SettingsFactory(Dictionary<string, string?> settings) : RunMonitorFactory
    {
        protected override IDictionary<string, string?> Settings => settings;
    }

    private static Dictionary<string, string?> Rule(string kind, string? threshold, string? window = null, string name = "r") => new()
    {
        ["RunMonitor:Alerts:0:Name"] = name, ["RunMonitor:Alerts:0:Kind"] = kind,
        ["RunMonitor:Alerts:0:Threshold"] = threshold, ["RunMonitor:Alerts:0:WindowMinutes"] = window,
    };

    public static TheoryData<Dictionary<string, string?>, string> Refused => new()
    {
        { Rule("errorRate", "0.5"), "RunMonitor:Alerts:0:Kind must be one of failureRate, stuckRuns, queueDepth, costPerDay, silence" },
        { Rule("queueDepth", "-1"), "RunMonitor:Alerts:0:Threshold must not be negative" },
        { Rule("costPerDay", "-0.01"), "RunMonitor:Alerts:0:Threshold must not be negative" },
        { Rule("failureRate", "1.5"), "RunMonitor:Alerts:0:Threshold of a failureRate is a fraction from 0 to 1" },
        { Rule("failureRate", "lots"), "RunMonitor:Alerts:0:Threshold must be a number" },
        { Rule("stuckRuns", null), "RunMonitor:Alerts:0:Threshold is required for stuckRuns" },
        { Rule("stuckRuns", "1.5"), "RunMonitor:Alerts:0:Threshold of stuckRuns is a count of runs" },
        { Rule("silence", "3", "10"), "RunMonitor:Alerts:0:Threshold does not apply to silence" },
        { Rule("silence", null, "0"), "RunMonitor:Alerts:0:WindowMinutes must be a whole number of minutes from 1 to 43200" },
        { Rule("queueDepth", "5", "10"), "RunMonitor:Alerts:0:WindowMinutes does not apply to queueDepth" },
        { Rule("costPerDay", "5", "10"), "RunMonitor:Alerts:0:WindowMinutes does not apply to costPerDay" },
        { Rule("queueDepth", "5", name: ""), "RunMonitor:Alerts:0:Name must be 1-100 characters" },
        { new() { ["RunMonitor:Alerts:IntervalSeconds"] = "0" }, "RunMonitor:Alerts:IntervalSeconds must be a whole number of seconds from 1 to 3600" },
        { new(Rule("queueDepth", "5")) { ["RunMonitor:Alerts:0:Tenant"] = "Not A Tenant" }, "RunMonitor:Alerts:0:Tenant must be 1-64 of a-z, 0-9, _ and - (capitals are read as lowercase)" },
        { new(Rule("queueDepth", "5")) { ["RunMonitor:Alerts:0:Severity"] = "high" }, "RunMonitor:Alerts:0:Severity is not a field of an alert rule" },
        {
            new(Rule("queueDepth", "5", name: "twice")) { ["RunMonitor:Alerts:1:Name"] = "twice", ["RunMonitor:Alerts:1:Kind"] = "stuckRuns", ["RunMonitor:Alerts:1:Threshold"] = "1" },
            "RunMonitor:Alerts:1:Name 'twice' names another rule too"
        },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void BadRule_StopsStartUp_NamingTheKey(Dictionary<string, string?> settings, string message)
    {
        using var factory = new SettingsFactory(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(message, error.ToString());
    }

    /// At the threshold, and never on nothing: a threshold of 0 means "any at all", not "always".
    [Theory]
    [InlineData("queueDepth", 3, 3, true)]
    [InlineData("queueDepth", 3, 2, false)]
    [InlineData("queueDepth", 0, 0, false)]
    [InlineData("queueDepth", 0, 1, true)]
    [InlineData("costPerDay", 0, 0, false)]
    [InlineData("costPerDay", 0, 0.01, true)]
    [InlineData("failureRate", 0, 0, false)]
    [InlineData("failureRate", 0.2, 0.2, true)]
    public void Fires_AtTheThreshold_NeverOnNothing(string kind, double threshold, double value, bool fires) =>
        Assert.Equal(fires, new AlertRule("r", kind, threshold, TimeSpan.FromHours(1), null, null).Fires(value));

    [Fact]
    public async Task GoodRules_Start()
    {
        using var factory = new SettingsFactory(new(Rule("failureRate", "1", "5"))
        {
            ["RunMonitor:Alerts:1:Name"] = "quiet", ["RunMonitor:Alerts:1:Kind"] = "silence", ["RunMonitor:Alerts:1:Workflow"] = "nightly",
            ["RunMonitor:Alerts:2:Name"] = "zero", ["RunMonitor:Alerts:2:Kind"] = "costPerDay", ["RunMonitor:Alerts:2:Threshold"] = "0",
            ["RunMonitor:Alerts:IntervalSeconds"] = "15",
        });

        var response = await factory.CreateClient().GetAsync("/api/alerts");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RuleTenantWithCapitals_IsThatTenantInLowercase()
    {
        using var factory = new SettingsFactory(new(Rule("queueDepth", "5")) { ["RunMonitor:Alerts:0:Tenant"] = "Org_2NxQ8kLmZpYwVbT3" });

        var alerts = await factory.CreateClient().GetJsonAsync("/api/alerts?tenant=org_2nxq8klmzpywvbt3");

        Assert.Equal(["org_2nxq8klmzpywvbt3"], alerts["rules"]!.AsArray().Select(r => (string)r!["tenant"]!));
    }
}
