using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Runs;

public sealed class RunEventsTests
{
    [Fact]
    public async Task Publish_ReachesOnlySubscribersOfThatRun_UntilDisposed()
    {
        var events = new InProcessRunEvents();
        var mine = events.Subscribe("run-1");
        using var other = events.Subscribe("run-2");

        events.Publish(new RunChange("run-1", "acme", "running"));
        var received = await mine.Changes.ReadAsync();
        mine.Dispose();
        events.Publish(new RunChange("run-1", "acme", "completed"));

        Assert.Equal("running", received.Status);
        Assert.False(other.Changes.TryRead(out _));
        Assert.False(mine.Changes.TryRead(out _));
    }

    [Fact]
    public void Publish_ManyChangesToASlowReader_KeepsOnlyTheLatestFew()
    {
        var events = new InProcessRunEvents();
        using var slow = events.Subscribe("run-1");

        for (var i = 0; i < 100; i++) events.Publish(new RunChange("run-1", "acme", $"s{i}"));

        var kept = new List<string>();
        while (slow.Changes.TryRead(out var change)) kept.Add(change.Status);
        Assert.InRange(kept.Count, 1, 8);
        Assert.Equal("s99", kept[^1]);
    }
}
