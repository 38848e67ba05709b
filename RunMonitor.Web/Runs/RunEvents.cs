using System.Threading.Channels;

namespace RunMonitor.Web.Runs;

/// Something about a run changed (its row or one of its steps); readers re-read what they show.
public sealed record RunChange(string RunId, string TenantId, string Status)
{
    /// The status a change carries when only log lines were added (no run status is spelled so).
    public const string LogLines = "log";

    public static RunChange Log(string runId, string tenantId) => new(runId, tenantId, LogLines);

    public bool IsLog => Status == LogLines;
}

/// Tells live views that a run changed. In-process today; a PostgreSQL LISTEN/NOTIFY implementation
/// can replace it when several instances share one store.
public interface IRunEvents
{
    /// Called after the change is committed.
    void Publish(RunChange change);

    /// Changes of one run, until disposed.
    IRunSubscription Subscribe(string runId);
}

public interface IRunSubscription : IDisposable
{
    ChannelReader<RunChange> Changes { get; }
}

public sealed class InProcessRunEvents : IRunEvents
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Subscription>> _byRun = new(StringComparer.Ordinal);

    public void Publish(RunChange change)
    {
        Subscription[] targets;
        lock (_gate)
        {
            if (!_byRun.TryGetValue(change.RunId, out var list)) return;
            targets = [.. list];
        }
        foreach (var subscription in targets) subscription.Channel.Writer.TryWrite(change);
    }

    /// Every subscriber hears that its run may have changed (notices from elsewhere may have been missed).
    public void PublishToEveryRun()
    {
        Subscription[] targets;
        lock (_gate) targets = [.. _byRun.Values.SelectMany(list => list)];
        foreach (var subscription in targets) subscription.Channel.Writer.TryWrite(new RunChange(subscription.RunId, "", ""));
    }

    public IRunSubscription Subscribe(string runId)
    {
        var subscription = new Subscription(this, runId);
        lock (_gate)
        {
            if (!_byRun.TryGetValue(runId, out var list)) _byRun[runId] = list = [];
            list.Add(subscription);
        }
        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            if (!_byRun.TryGetValue(subscription.RunId, out var list)) return;
            list.Remove(subscription);
            if (list.Count == 0) _byRun.Remove(subscription.RunId);
        }
    }

    private sealed class Subscription(InProcessRunEvents owner, string runId) : IRunSubscription
    {
        // A reader only needs to know that something changed: old notices may be dropped.
        public Channel<RunChange> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<RunChange>(
            new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        public string RunId => runId;

        public ChannelReader<RunChange> Changes => Channel.Reader;

        public void Dispose()
        {
            owner.Remove(this);
            Channel.Writer.TryComplete();
        }
    }
}
