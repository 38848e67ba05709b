using System.Collections.Concurrent;
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
public sealed class CreateGroups(Database database, RunWrites writes, TimeProvider time)
{
    // 64 runs of two steps is a statement of a few hundred rows; a larger group bought nothing at 8 writers.
    private const int MaxGroup = 64;

    // Up to two groups at a time, the second only while the first is being written and once `MinSecondGroup` creates
    // wait for it: the creates arriving during a group's round trip start their own statement instead of waiting for the
    // first's commit (docs/PERFORMANCE.md, "A second group while the first is written"). Without the minimum, two
    // writers split the creates into groups of about two and the server spent more a create for no more writes a second.
    internal const int Writers = 2;
    private readonly ConcurrentQueue<PendingCreate> _queue = new();
    // Writers running (`WriteGroupsAsync`), changed under `_gate` with every decision to start or stop one.
    private readonly Lock _gate = new();
    private int _writers;

    // Each workflow's row as this instance last moved it in a group, by tenant and name: to when. A group moves a
    // workflow's row only when it is not known here or was moved `WorkflowSightingInterval` or longer before; otherwise
    // the statement leaves `workflows` alone (docs/PERFORMANCE.md, "PostgreSQL creates").
    private readonly ConcurrentDictionary<(string Tenant, string Workflow), DateTimeOffset> _workflowsMoved = new();
    // Workflows are a handful a tenant; past this many the memory starts again (each is moved once more).
    private const int MaxWorkflowsKept = 10_000;

    /// How far behind its newest run a workflow's `last_seen_at` may stay while that workflow's runs keep coming in
    /// groups (the `silence` alert's window is a minute at least).
    internal static readonly TimeSpan WorkflowSightingInterval = TimeSpan.FromSeconds(1);

    /// Creates waiting for the next group (the tests wait on it while they hold the store).
    internal int Queued => _queue.Count;

    /// Writers running now (none once every create has its answer and the queue is empty).
    internal int WritersRunning
    {
        get { lock (_gate) return _writers; }
    }

    /// How many creates must wait before a second group starts beside one being written (tests raise it to hold
    /// every create in one queue).
    internal int MinSecondGroup { get; set; } = 4;

    /// Writes `rows` in the next group; true once committed, false when the run's id is taken in its tenant. The caller
    /// only waits for its answer: a writer takes the queue group by group (`WriteGroupsAsync`), so a create wakes its
    /// caller once, when its group has committed (docs/PERFORMANCE.md, "Creates wait for their answer only").
    public Task<bool> CreateAsync(NewRunRows rows, CancellationToken ct)
    {
        var pending = new PendingCreate(rows, ct);
        _queue.Enqueue(pending);
        // A writer starts on the thread pool's global queue, behind the work already queued there, so the creates of the
        // requests being read now join its first group instead of waiting for its round trip (docs/PERFORMANCE.md,
        // "Creates wait for their answer only"); and without the caller's request-scoped context, as it goes on writing
        // other callers' groups after this one has its answer.
        if (StartWriter()) ThreadPool.UnsafeQueueUserWorkItem(static groups => _ = groups.WriteGroupsAsync(), this, preferLocal: false);
        return pending.Result;
    }

    /// Whether a writer is due now, counted as started when it is: the first whenever none runs, the second beside it
    /// once `MinSecondGroup` creates wait. A create queued while a writer is stopping either is seen by that writer's
    /// last look at the queue or sees it gone (both hold `_gate`).
    private bool StartWriter()
    {
        lock (_gate)
        {
            if (_writers > 0 && (_writers >= Writers || _queue.Count < MinSecondGroup)) return false;
            _writers++;
            return true;
        }
    }

    /// Writes groups while creates wait: the last writer until the queue is empty, one beside another until fewer than
    /// `MinSecondGroup` wait (the other takes them when it ends).
    private async Task WriteGroupsAsync()
    {
        try
        {
            while (true)
            {
                await WriteGroupAsync();
                lock (_gate)
                {
                    if (_queue.IsEmpty || (_writers > 1 && _queue.Count < MinSecondGroup))
                    {
                        _writers--;
                        return;
                    }
                }
            }
        }
        catch (Exception e)
        {
            // Not reached (each group's failure is its creates' answer), but a writer must not leave creates waiting.
            lock (_gate) _writers--;
            foreach (var create in Drain()) create.Fail(e);
        }
    }

    private IEnumerable<PendingCreate> Drain()
    {
        while (_queue.TryDequeue(out var next)) yield return next;
    }

    private async Task WriteGroupAsync()
    {
        var group = new List<PendingCreate>();
        var keys = new HashSet<RunKey>();
        // A second create of one tenant and id waits for the first to commit, then hears the id is taken, as it would
        // have one after the other.
        var after = new List<PendingCreate>();
        while (group.Count < MaxGroup && _queue.TryDequeue(out var next))
        {
            if (next.Cancelled) next.Cancel();
            else if (keys.Add(next.Key)) group.Add(next);
            else after.Add(next);
        }
        if (group.Count > 0) await WriteAsync(group);
        foreach (var create in after) await WriteAsync([create]);
    }

    private async Task WriteAsync(List<PendingCreate> group)
    {
        try
        {
            // Not cancelled by any one caller: the group is the others' too.
            var inserted = group.Count == 1
                ? (await database.WriteGroupStatementAsync(connection => writes.CreateAsync(connection, null, group[0].Rows))
                    ? new HashSet<RunKey> { group[0].Key } : [])
                : await WriteManyAsync(group);
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

    private async Task<IReadOnlySet<RunKey>> WriteManyAsync(List<PendingCreate> group)
    {
        var now = time.GetUtcNow();
        var workflows = group.Select(c => c.Workflow).Distinct().ToList();
        var parts = GroupParts.None;
        if (group.Any(c => c.Rows.Errors.Count > 0)) parts |= GroupParts.Errors;
        if (workflows.Any(w => !_workflowsMoved.TryGetValue(w, out var moved) || now - moved >= WorkflowSightingInterval)) parts |= GroupParts.Workflows;
        var inserted = await database.WriteGroupStatementAsync(connection => writes.CreateManyAsync(connection, group.Select(c => c.Rows).ToList(), parts));
        if (parts.HasFlag(GroupParts.Workflows))
        {
            if (_workflowsMoved.Count > MaxWorkflowsKept) _workflowsMoved.Clear();
            // A workflow whose runs were all refused (ids taken) was not moved.
            foreach (var create in group.Where(c => inserted.Contains(c.Key))) _workflowsMoved[create.Workflow] = now;
        }
        return inserted;
    }

    private sealed class PendingCreate(NewRunRows rows, CancellationToken ct)
    {
        private readonly TaskCompletionSource<bool> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NewRunRows Rows => rows;
        public RunKey Key { get; } = new(rows.Run.TenantId, rows.Run.Id);
        public (string Tenant, string Workflow) Workflow => (rows.Run.TenantId, rows.Run.WorkflowName);
        public Task<bool> Result => _result.Task;
        public bool Cancelled => ct.IsCancellationRequested;

        public void Complete(bool inserted) => _result.TrySetResult(inserted);
        public void Cancel() => _result.TrySetCanceled(ct);
        public void Fail(Exception e) => _result.TrySetException(e);
    }
}
