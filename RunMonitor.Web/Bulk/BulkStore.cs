using System.Data;
using System.Data.Common;
using Dapper;
using Npgsql;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Web.Bulk;

/// `expectedCount` was not the number of runs the action applies to now: the view changed since it was counted.
public sealed class BulkCountChangedException(long expected, long eligible) : Exception($"expectedCount is {expected} but {eligible} runs are eligible now")
{
    public long Expected { get; } = expected;
    public long Eligible { get; } = eligible;
}

/// What one batch did: the runs it changed (for the live views) and whether the operation is now finished.
public sealed record BulkBatch(int Processed, bool Finished, IReadOnlyList<RunChange> Changes, bool AnyTerminal)
{
    public static readonly BulkBatch Nothing = new(0, false, [], false);
}

/// Every statement about bulk operations: counting a selection, freezing it into items, one batch of work, the reads
/// and the stop. A batch is one short write (the writer is never held for long) that claims its items (skipping those
/// another instance holds, on PostgreSQL), acts on each run through `RunQueue`'s own rules and marks each item done in
/// that same transaction: a run is acted on at most once per operation, whatever restarts or instances there are.
public sealed class BulkStore(Database database, ISqlDialect dialect, RunListQuery listQuery, RunQueue queue, RunWrites writes,
    WebhookOutbox webhooks, TimeProvider time) : IRunPurgeListener
{
    public const string AllTenants = "*";
    public const int MaxErrors = 100;
    public const int ListLimit = 50;

    private static string Eligibility(string action) => action switch
    {
        BulkActions.Cancel => "status IN ('queued', 'running')",
        BulkActions.RetryFromFailedStep => $"{NotRetried} AND EXISTS (SELECT 1 FROM steps s " +
                                           "WHERE s.tenant_id = runs.tenant_id AND s.run_id = runs.id AND s.status = 'failed')",
        _ => NotRetried,
    };

    /// A bulk retry takes a finished run that no run retries yet: the same filter of failed runs, retried again (a second
    /// operator, the morning's operation run twice), retries only what the first left; a retry that failed is retried
    /// in its turn. A single retry may still retry a run again.
    private const string NotRetried = "status IN ('failed', 'partial', 'cancelled') AND NOT EXISTS (SELECT 1 FROM runs retry " +
                                      "WHERE retry.retry_of = runs.id AND retry.tenant_id = runs.tenant_id)";

    private const string SelectRetry = "SELECT id FROM runs WHERE retry_of = @Id AND tenant_id = @TenantId LIMIT 1";

    private static string And(string where, string clause) => where.Length == 0 ? "WHERE " + clause : where + " AND " + clause;

    /// The selection's WHERE (the list's own for a filter) and its parameters, read on `connection` (SQLite's name
    /// index is read here, so a write transaction can reuse the text).
    private async Task<(string Matched, string Eligible, DynamicParameters Parameters)> WhereAsync(IDbConnection connection, BulkSelection selection)
    {
        string where;
        DynamicParameters p;
        if (selection.Filter is { } filter)
        {
            (where, p, _) = await listQuery.WhereAsync(connection, filter);
        }
        else
        {
            p = new DynamicParameters();
            p.Add("Ids", selection.Ids!.Distinct(StringComparer.Ordinal).ToArray());
            where = dialect.Lists("WHERE id IN @Ids");
            if (selection.Tenant is { } tenant)
            {
                where += " AND tenant_id = @Tenant";
                p.Add("Tenant", tenant);
            }
            else
            {
                await RefuseSharedIdsAsync(connection, p);
            }
        }
        return (where, And(where, Eligibility(selection.Action)), p);
    }

    private sealed record IdTenant(string Id, string TenantId);

    /// Ids without a tenant (a super admin's): an id that runs of several tenants hold does not say which run is meant,
    /// and acting on all of them would reach tenants nobody chose. AmbiguousRunIdException naming the first such id.
    private async Task RefuseSharedIdsAsync(IDbConnection connection, DynamicParameters ids)
    {
        var held = await connection.QueryAsync<IdTenant>(dialect.Lists("SELECT id AS Id, tenant_id AS TenantId FROM runs WHERE id IN @Ids"), ids);
        var shared = held.GroupBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Skip(1).Any());
        if (shared is not null)
            throw new AmbiguousRunIdException(shared.Key, shared.Select(r => r.TenantId).Order(StringComparer.Ordinal).ToList());
    }

    /// How many runs the selection names, and how many of them the action applies to now.
    public async Task<(long Matched, long Eligible)> CountAsync(BulkSelection selection, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var (matched, eligible, p) = await WhereAsync(connection, selection);
        var m = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM runs {matched}", p, cancellationToken: ct));
        var e = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM runs {eligible}", p, cancellationToken: ct));
        return (m, e);
    }

    private const string OperationColumns = """
        id AS Id, tenant_id AS TenantId, action AS Action, status AS Status, filter AS Filter, matched AS Matched, eligible AS Eligible,
        done AS Done, succeeded AS Succeeded, skipped AS Skipped, failed AS Failed, created_by AS CreatedBy, created_at AS CreatedAt,
        completed_at AS CompletedAt
        """;

    private const string InsertOperation = """
        INSERT INTO bulk_operations (tenant_id, action, status, filter, matched, eligible, created_by, created_at, completed_at)
        VALUES (@TenantId, @Action, @Status, @Filter, @Matched, @Eligible, @CreatedBy, @CreatedAt, @CompletedAt)
        RETURNING id
        """;

    /// Starts an operation: its row and its items (the eligible runs, frozen now) in one transaction, refused with
    /// `BulkCountChangedException` (nothing written) when they are not `expectedCount` runs.
    public async Task<BulkOperationRow> CreateAsync(BulkSelection selection, long expectedCount, string? filterText, string createdBy,
        CancellationToken ct = default)
    {
        string matchedWhere, eligibleWhere;
        DynamicParameters p;
        long matched;
        await using (var connection = await database.OpenAsync(ct))
        {
            (matchedWhere, eligibleWhere, p) = await WhereAsync(connection, selection);
            matched = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM runs {matchedWhere}", p, cancellationToken: ct));
        }
        var now = DbTime.ToDb(time.GetUtcNow());
        var insertItems = $"INSERT INTO bulk_items (operation_id, seq, tenant_id, run_id) SELECT @OperationId, pk, tenant_id, id FROM runs {eligibleWhere}";
        var operation = await database.WriteAsync(async (connection, tx) =>
        {
            var row = new BulkOperationRow
            {
                TenantId = selection.Scope, Action = selection.Action, Status = expectedCount == 0 ? BulkStatus.Completed : BulkStatus.Running,
                Filter = filterText, Matched = Math.Max(matched, expectedCount), Eligible = expectedCount, CreatedBy = createdBy, CreatedAt = now,
                CompletedAt = expectedCount == 0 ? now : null,
            };
            var id = await connection.ExecuteScalarAsync<long>(InsertOperation, row, tx);
            p.Add("OperationId", id);
            var frozen = await connection.ExecuteAsync(insertItems, p, tx);
            // Thrown, the transaction (SQLite: this write's savepoint) is rolled back: no operation, no items.
            if (frozen != expectedCount) throw new BulkCountChangedException(expectedCount, frozen);
            return row with { Id = id };
        }, ct);
        return operation;
    }

    private static string Scoped(string? tenant) => tenant is null ? "" : " AND tenant_id = @Tenant";

    /// The operation, if the caller's tenant (null: a super admin, any) may see it.
    public async Task<BulkOperationRow?> GetAsync(string? tenant, long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<BulkOperationRow>(new CommandDefinition(
            $"SELECT {OperationColumns} FROM bulk_operations WHERE id = @Id{Scoped(tenant)}", new { Id = id, Tenant = tenant }, cancellationToken: ct));
    }

    private const string SelectErrors = """
        SELECT seq AS Seq, tenant_id AS TenantId, run_id AS RunId, state AS State, reason AS Reason, new_run_id AS NewRunId
        FROM bulk_items WHERE operation_id = @Id AND state IN ('skipped', 'failed') ORDER BY seq LIMIT @Limit
        """;

    /// The first `MaxErrors` runs it skipped or failed on, in its order.
    public async Task<IReadOnlyList<BulkItemRow>> ErrorsAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<BulkItemRow>(new CommandDefinition(SelectErrors, new { Id = id, Limit = MaxErrors }, cancellationToken: ct))).ToList();
    }

    /// A page of the operation's runs in its order (`seq`, the runs' own order when it froze them), read from its items
    /// by their key, each run and new run looked up by its (tenant, id) key: the page costs its own rows and the items'
    /// index entries its `OFFSET` steps over (at most the operation's, never the store's), whatever the store's size.
    /// `{0}`: the caller's tenant, when it has one.
    public const string SelectItems = """
        SELECT i.seq AS Seq, i.tenant_id AS TenantId, i.run_id AS RunId, i.state AS State, i.reason AS Reason, i.new_run_id AS NewRunId,
               r.name AS RunName, r.workflow_name AS WorkflowName, r.status AS RunStatus, n.status AS NewRunStatus
        FROM (SELECT seq, tenant_id, run_id, state, reason, new_run_id FROM bulk_items
              WHERE operation_id = @Id{0} ORDER BY seq LIMIT @Limit OFFSET @Offset) i
        LEFT JOIN runs r ON r.tenant_id = i.tenant_id AND r.id = i.run_id
        LEFT JOIN runs n ON n.tenant_id = i.tenant_id AND n.id = i.new_run_id
        ORDER BY i.seq
        """;

    public static readonly string SelectItemsOfTenant = string.Format(System.Globalization.CultureInfo.InvariantCulture, SelectItems, " AND tenant_id = @Tenant");
    public static readonly string SelectItemsOfAnyTenant = string.Format(System.Globalization.CultureInfo.InvariantCulture, SelectItems, "");

    public const int ItemsPageSize = 50;

    /// Up to `limit` of the operation's runs from `offset`, within the caller's tenant (null: a super admin, any).
    public async Task<IReadOnlyList<BulkItemView>> ItemsAsync(string? tenant, long id, long offset, int limit = ItemsPageSize, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<BulkItemView>(new CommandDefinition(tenant is null ? SelectItemsOfAnyTenant : SelectItemsOfTenant,
            new { Id = id, Tenant = tenant, Limit = limit, Offset = offset }, cancellationToken: ct))).ToList();
    }

    /// The tenant's latest `ListLimit` operations, newest first (a super admin's: every tenant's).
    public async Task<IReadOnlyList<BulkOperationRow>> ListAsync(string? tenant, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var where = tenant is null ? "" : "WHERE tenant_id = @Tenant";
        return (await connection.QueryAsync<BulkOperationRow>(new CommandDefinition(
            $"SELECT {OperationColumns} FROM bulk_operations {where} ORDER BY id DESC LIMIT @Limit", new { Tenant = tenant, Limit = ListLimit },
            cancellationToken: ct))).ToList();
    }

    private const string StopOperation = "UPDATE bulk_operations SET status = 'stopped', completed_at = @Now WHERE id = @Id AND status = 'running'";

    /// Stops a running operation where it is (a batch under way still commits); true when it was running.
    public async Task<bool> StopAsync(long id, CancellationToken ct = default)
    {
        var now = DbTime.ToDb(time.GetUtcNow());
        return await database.WriteAsync(async (connection, tx) =>
            await connection.ExecuteAsync(StopOperation, new { Id = id, Now = now }, tx) == 1, ct);
    }

    // Retention: the operations that ended before the cutoff go, oldest first, each with its items; at most
    // PurgeItemsBatch items and PurgeOperationsBatch operations a transaction (an operation of 100,000 runs, or years of
    // small ones, would otherwise hold the writer while they go). The operations are few: their table is read whole.
    public const int PurgeItemsBatch = 5000;
    public const int PurgeOperationsBatch = 100;
    private const string SelectEndedBefore = "SELECT id FROM bulk_operations WHERE status <> 'running' AND completed_at < @Cutoff ORDER BY id LIMIT @Limit";
    private const string FirstItem = "SELECT MIN(seq) FROM bulk_items WHERE operation_id = @Id";
    private const string DeleteItems = "DELETE FROM bulk_items WHERE operation_id = @Id AND seq < @Below";
    private const string DeleteOperation = "DELETE FROM bulk_operations WHERE id = @Id";

    async Task<bool> IRunPurgeListener.PurgeOlderAsync(DbConnection connection, IDbTransaction tx, string cutoff, CancellationToken ct)
    {
        var ended = (await connection.QueryAsync<long>(new CommandDefinition(SelectEndedBefore,
            new { Cutoff = cutoff, Limit = PurgeOperationsBatch }, tx, cancellationToken: ct))).ToList();
        var budget = PurgeItemsBatch;
        foreach (var id in ended)
        {
            // Items go in ranges of seq from the first left; the operation goes once none is left.
            while (await connection.ExecuteScalarAsync<long?>(new CommandDefinition(FirstItem, new { Id = id }, tx, cancellationToken: ct)) is { } first)
            {
                if (budget == 0) return true;
                budget -= await connection.ExecuteAsync(new CommandDefinition(DeleteItems, new { Id = id, Below = first + budget }, tx, cancellationToken: ct));
            }
            await connection.ExecuteAsync(new CommandDefinition(DeleteOperation, new { Id = id }, tx, cancellationToken: ct));
        }
        return ended.Count == PurgeOperationsBatch;
    }

    private const string SelectRunning = "SELECT id FROM bulk_operations WHERE status = 'running' ORDER BY id";

    /// The operations with work left, oldest first.
    public async Task<IReadOnlyList<long>> RunningAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(SelectRunning, cancellationToken: ct))).ToList();
    }

    private const string ClaimItems = """
        SELECT seq AS Seq, tenant_id AS TenantId, run_id AS RunId, state AS State FROM bulk_items
        WHERE operation_id = @Id AND state = 'pending' ORDER BY seq LIMIT @Limit{0}
        """;

    private const string MarkItem = """
        UPDATE bulk_items SET state = @State, reason = @Reason, new_run_id = @NewRunId
        WHERE operation_id = @Id AND seq = @Seq AND state = 'pending'
        """;

    private const string CountBatch = """
        UPDATE bulk_operations SET done = done + @Done, succeeded = succeeded + @Succeeded, skipped = skipped + @Skipped, failed = failed + @Failed
        WHERE id = @Id
        """;

    private const string CompleteOperation = """
        UPDATE bulk_operations SET status = 'completed', completed_at = @Now
        WHERE id = @Id AND status = 'running' AND NOT EXISTS (SELECT 1 FROM bulk_items WHERE operation_id = @Id AND state = 'pending')
        """;

    private readonly string _claimItems = string.Format(System.Globalization.CultureInfo.InvariantCulture, ClaimItems, dialect.SkipLocked);

    /// One batch of the operation: up to `batchSize` of its pending runs acted on, each item marked in this
    /// transaction. Finished when it ran out of pending items (the operation is then completed), or when it is no
    /// longer running (stopped).
    public async Task<BulkBatch> ProcessBatchAsync(long id, int batchSize, CancellationToken ct = default)
    {
        var batch = await database.WriteAsync(async (connection, tx) =>
        {
            var operation = await connection.QuerySingleOrDefaultAsync<BulkOperationRow>(
                $"SELECT {OperationColumns} FROM bulk_operations WHERE id = @Id", new { Id = id }, tx);
            if (operation is null || operation.IsFinished) return new BulkBatch(0, true, [], false);
            var now = time.GetUtcNow();
            var items = (await connection.QueryAsync<BulkItemRow>(_claimItems, new { Id = id, Limit = batchSize }, tx)).ToList();
            var changes = new List<RunChange>();
            long succeeded = 0, skipped = 0, failed = 0;
            var anyTerminal = false;
            foreach (var item in items)
            {
                var (state, reason, newRunId, changed) = await ActAsync(connection, tx, operation, item, now);
                switch (state)
                {
                    case BulkItemState.Succeeded: succeeded++; break;
                    case BulkItemState.Skipped: skipped++; break;
                    default: failed++; break;
                }
                foreach (var run in changed)
                {
                    changes.Add(new RunChange(run.Id, run.TenantId, run.Status));
                    anyTerminal |= RunStatus.IsTerminal(run.Status);
                }
                await connection.ExecuteAsync(MarkItem, new { Id = id, item.Seq, State = state, Reason = reason, NewRunId = newRunId }, tx);
            }
            if (items.Count > 0)
                await connection.ExecuteAsync(CountBatch, new { Id = id, Done = items.Count, Succeeded = succeeded, Skipped = skipped, Failed = failed }, tx);
            var finished = items.Count < batchSize
                           && await connection.ExecuteAsync(CompleteOperation, new { Id = id, Now = DbTime.ToDb(now) }, tx) == 1;
            return new BulkBatch(items.Count, finished, changes, anyTerminal);
        }, CancellationToken.None);
        if (batch.AnyTerminal) webhooks.Notify();
        return batch;
    }

    /// One run of the operation, through the single-run rule, in a savepoint of its own: a run the store refuses is
    /// `failed` alone, not the whole batch. PostgreSQL's conflicts are thrown on, so the whole batch is tried again.
    private async Task<(string State, string? Reason, string? NewRunId, IReadOnlyList<RunRow> Changed)> ActAsync(DbConnection connection,
        IDbTransaction tx, BulkOperationRow operation, BulkItemRow item, DateTimeOffset now)
    {
        var detail = $"bulk operation {operation.Id}";
        await connection.ExecutePreparedAsync("SAVEPOINT bulk_item", null, tx);
        try
        {
            var run = await writes.GetAsync(connection, tx, item.TenantId, item.RunId);
            (string State, string? Reason, string? NewRunId, IReadOnlyList<RunRow> Changed) outcome;
            if (run is null) outcome = (BulkItemState.Skipped, "the run no longer exists", null, []);
            else
            {
                // Retried since the operation froze its runs (by hand, or by another operation that froze them too).
                var retriedAs = operation.Action is BulkActions.Retry or BulkActions.RetryFromFailedStep
                    ? await connection.QueryFirstOrDefaultAsync<string>(SelectRetry, new { run.Id, run.TenantId }, tx)
                    : null;
                var result = retriedAs is not null ? WriteResult<RunRow>.Conflict($"already retried as {retriedAs}") : operation.Action switch
                {
                    BulkActions.Cancel => await queue.CancelInTransactionAsync(connection, tx, run, operation.CreatedBy, now, detail),
                    BulkActions.RetryFromFailedStep => await queue.RetryInTransactionAsync(connection, tx, run, new RetryRequest(FromFailedStep: true),
                        operation.CreatedBy, now, detail),
                    _ => await queue.RetryInTransactionAsync(connection, tx, run, new RetryRequest(), operation.CreatedBy, now, detail),
                };
                outcome = result.Outcome switch
                {
                    WriteOutcome.Created => (BulkItemState.Succeeded, null, result.Value!.Id, [result.Value!]),
                    WriteOutcome.Ok => (BulkItemState.Succeeded, null, null, [result.Value!]),
                    WriteOutcome.Invalid => (BulkItemState.Skipped, $"{result.Field} {result.Reason}", null, []),
                    _ => (BulkItemState.Skipped, result.Reason ?? result.Outcome.ToString(), null, []),
                };
                var said = outcome.State == BulkItemState.Succeeded
                    ? outcome.NewRunId is { } newRun ? $"operation {operation.Id} ({operation.Action}): retried as {newRun}" : $"operation {operation.Id} ({operation.Action}): done"
                    : $"operation {operation.Id} ({operation.Action}): skipped, {outcome.Reason}";
                await ActivityLog.RecordAsync(connection, tx, run, now, operation.CreatedBy, ActivityActions.Bulk, said);
            }
            await connection.ExecutePreparedAsync("RELEASE SAVEPOINT bulk_item", null, tx);
            return outcome;
        }
        catch (DbException e) when (!(e is PostgresException p && p.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected))
        {
            await connection.ExecutePreparedAsync("ROLLBACK TO SAVEPOINT bulk_item", null, tx);
            await connection.ExecutePreparedAsync("RELEASE SAVEPOINT bulk_item", null, tx);
            return (BulkItemState.Failed, "the store refused the change: " + e.Message, null, []);
        }
    }
}
