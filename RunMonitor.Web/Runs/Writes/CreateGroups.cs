using Npgsql;
using RunMonitor.Web.Data;

namespace RunMonitor.Web.Runs;

/// Group commit for creates where the store takes many in one statement (`ISqlDialect.CreateRuns`: PostgreSQL). Creates
/// that arrive while a group is being written wait, and the next group takes them all: one statement, one round trip
/// and one commit for up to `MaxGroup` runs, where each create was one of each (docs/PERFORMANCE.md, "PostgreSQL
/// creates"). A second group may be written beside the first (below). Each caller still hears its own outcome:
/// inserted, or its id taken in its tenant (a create of an id the other group is writing waits in PostgreSQL for that
/// group's commit, then finds it taken, as one after the other would). A group PostgreSQL refuses (one run breaks a
/// constraint) committed nothing, so each of its creates is written again alone and hears only its own answer. SQLite
/// needs none of this: its one writer groups every write (`GroupCommitWrites`).
public sealed class CreateGroups(Database database, RunWrites writes)
{
    // 64 runs of two steps is a statement of a few hundred rows; a larger group bought nothing at 8 writers.
    private const int MaxGroup = 64;

    // Up to two groups at a time, the second only while the first is being written and once `MinSecondGroup` creates
    // wait for it: the creates arriving during a group's round trip start their own statement instead of waiting for the
    // first's commit (docs/PERFORMANCE.md, "A second group while the first is written"). Without the minimum, two
    // writers split the creates into groups of about two and the server spent more a create for no more writes a second.
    private const int Writers = 2;

    // The queue and the number of writers, under `_gate`. A writer is the create that found too few writers for the
    // queue: it writes groups, one after the other, until the queue is empty or the other writer is enough for what
    // waits (`WriteGroupsAsync`). The others only wait for their own answer: no create passes through a gate of its
    // own once another's group has taken it (each such pass was a thread switch; issue 21, item 2, fourth step).
    private readonly Lock _gate = new();
    private readonly Queue<PendingCreate> _queue = new();
    private int _writing;

    /// Creates waiting for the next group (the tests wait on it while they hold the store).
    internal int Queued { get { lock (_gate) return _queue.Count; } }

    /// How many creates must wait before a second group starts beside one being written (tests raise it to hold
    /// every create in one queue).
    internal int MinSecondGroup { get; set; } = 4;

    /// Writes `rows` in the next group; true once committed, false when the run's id is taken in its tenant.
    public Task<bool> CreateAsync(NewRunRows rows, CancellationToken ct)
    {
        var pending = new PendingCreate(rows, ct);
        bool write;
        lock (_gate)
        {
            _queue.Enqueue(pending);
            write = _writing == 0 || (_writing < Writers && _queue.Count >= MinSecondGroup);
            if (write) _writing++;
        }
        // Runs on this caller's thread up to the group's round trip, then on the driver's completions; this caller's
        // create is in the first group or a later one of the same writer, as groups are taken in arrival order.
        if (write) _ = WriteGroupsAsync();
        return pending.Result;
    }

    /// Groups until none waits, or until what waits is left to the other writer: fewer than `MinSecondGroup` creates
    /// beside it (the decision and the count change under one lock, so a create is never left without a writer).
    private async Task WriteGroupsAsync()
    {
        while (true)
        {
            List<PendingCreate> group, after;
            lock (_gate)
            {
                (group, after) = Take();
                if (group.Count == 0 && after.Count == 0)
                {
                    _writing--;
                    return;
                }
            }
            if (group.Count > 0) await WriteAsync(group);
            // A second create of one tenant and id waits for the first to commit, then hears the id is taken, as it would
            // have one after the other.
            foreach (var create in after) await WriteAsync([create]);
            lock (_gate)
            {
                if (_queue.Count == 0 || (_writing > 1 && _queue.Count < MinSecondGroup))
                {
                    _writing--;
                    return;
                }
            }
        }
    }

    /// The next group in arrival order (under `_gate`), and the creates of an id already in it.
    private (List<PendingCreate> Group, List<PendingCreate> After) Take()
    {
        var group = new List<PendingCreate>(Math.Min(_queue.Count, MaxGroup));
        var keys = new HashSet<RunKey>();
        var after = new List<PendingCreate>();
        while (group.Count < MaxGroup && _queue.TryDequeue(out var next))
        {
            if (next.Cancelled) next.Cancel();
            else if (keys.Add(next.Key)) group.Add(next);
            else after.Add(next);
        }
        return (group, after);
    }

    private async Task WriteAsync(List<PendingCreate> group)
    {
        try
        {
            // Not cancelled by any one caller: the group is the others' too. A group of one is the same statement.
            var inserted = await database.WriteStatementAsync((connection, _) => writes.CreateManyAsync(connection, group.Select(c => c.Rows).ToList()),
                CancellationToken.None);
            foreach (var create in group) create.Complete(inserted.Contains(create.Key));
        }
        catch (PostgresException) when (group.Count > 1)
        {
            // The server refused the statement, so nothing of it committed: each create alone, with its own outcome.
            foreach (var create in group) await WriteAsync([create]);
        }
        catch (Exception e)
        {
            // A lost connection may have lost the commit or its answer: no create is written again (it might be twice),
            // each caller hears the failure as a single create's caller does.
            foreach (var create in group) create.Fail(e);
        }
    }

    private sealed class PendingCreate(NewRunRows rows, CancellationToken ct)
    {
        private readonly TaskCompletionSource<bool> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NewRunRows Rows => rows;
        public RunKey Key { get; } = new(rows.Run.TenantId, rows.Run.Id);
        public Task<bool> Result => _result.Task;
        public bool Cancelled => ct.IsCancellationRequested;

        public void Complete(bool inserted) => _result.TrySetResult(inserted);
        public void Cancel() => _result.TrySetCanceled(ct);
        public void Fail(Exception e) => _result.TrySetException(e);
    }
}
