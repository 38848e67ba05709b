using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;
using RunMonitor.Web.Webhooks;

namespace RunMonitor.Web.Alerts;

/// Evaluates every rule each interval and records what changed: a rule that starts firing gets one `firing` event,
/// one that clears one `resolved` event, each queued as a signed webhook in the same transaction. Instances sharing
/// a PostgreSQL store take turns through the dialect's `LockKey`, and each measures and finds the states the other
/// wrote under it, so an event is recorded (and sent) once and a later turn never undoes it with an older measure.
public sealed class AlertEvaluator(Database database, ISqlDialect dialect, AlertRuleSet rules, WebhookOutbox webhooks, WorkerBook workers,
    TimeProvider time, ILogger<AlertEvaluator> logger) : BackgroundService
{
    public const string LockName = "alerts:evaluate";
    public const int EventsShown = 50;

    public IReadOnlyList<AlertRule> Rules => rules.Rules;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (rules.Rules.Count > 0) await EvaluateAsync(skipIfRecent: true, stoppingToken);
                await workers.PruneAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Alert evaluation failed; trying again next interval");
            }
            try { await Task.Delay(rules.Interval, time, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// One evaluation of every rule; the events it recorded. `skipIfRecent`: another instance evaluated within half
    /// an interval, so this one leaves it.
    public async Task<IReadOnlyList<AlertEventRow>> EvaluateAsync(bool skipIfRecent = false, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var lockKey = dialect.LockKey;
        IReadOnlyDictionary<string, double?>? measured = null;
        await using (var reader = await database.OpenAsync(ct))
        {
            if (skipIfRecent && EvaluatedWithin(await AlertStore.StatesAsync(reader, null), now)) return [];
            // One writer (SQLite) is one instance: measured on a reader, outside the write, so the writer (and ingest
            // behind it) never waits for a measure.
            if (lockKey is null) measured = await MeasureAsync(reader, null, now);
        }
        var events = await database.WriteAsync(async (connection, tx) =>
        {
            // The states are read and changed under the lock, so two instances never both record one change.
            if (lockKey is not null) await Dapper.SqlMapper.ExecuteAsync(connection, lockKey, new { LockKey = LockName }, tx);
            // The moment after the wait: never earlier than the evaluation of the instance that held the lock.
            var at = lockKey is null ? now : time.GetUtcNow();
            var states = await AlertStore.StatesAsync(connection, tx);
            // Another instance evaluated while this one waited: its states stand.
            if (skipIfRecent && EvaluatedWithin(states, at)) return [];
            // Where instances share the store the rules are measured here, under the lock: a measure taken before it may
            // be older than the state another instance wrote meanwhile, and would undo it (resolved, then firing again).
            var values = measured ?? await MeasureAsync(connection, tx, at);
            var nowText = DbTime.ToDb(at);
            var recorded = new List<AlertEventRow>();
            foreach (var rule in rules.Rules)
            {
                var value = values[rule.Name];
                var firing = rule.Fires(value);
                var was = states.TryGetValue(rule.Name, out var previous) ? previous : null;
                var wasFiring = was?.State == AlertState.Firing;
                if (firing != wasFiring)
                {
                    var row = await AlertStore.RecordAsync(connection, tx, new AlertEventRow
                    {
                        Rule = rule.Name, TenantId = rule.Tenant, State = firing ? AlertState.Firing : AlertState.Resolved,
                        Value = value, Threshold = rule.Threshold, At = nowText,
                    });
                    await webhooks.EnqueueEventAsync(connection, tx, rule.Tenant, "alert." + row.State, "alert", AlertJson.Event(row, rule), at);
                    recorded.Add(row);
                }
                await AlertStore.SaveStateAsync(connection, tx, new AlertStateRow
                {
                    Rule = rule.Name, TenantId = rule.Tenant, State = firing ? AlertState.Firing : AlertState.Ok, Value = value,
                    Threshold = rule.Threshold, EvaluatedAt = nowText, ChangedAt = firing != wasFiring || was is null ? nowText : was.ChangedAt,
                });
            }
            // A rule taken out of the configuration leaves no state behind (its events stay).
            foreach (var gone in states.Keys.Where(k => rules.Rules.All(r => r.Name != k)))
                await AlertStore.ForgetAsync(connection, tx, gone);
            return recorded;
        }, ct);
        if (events.Count > 0)
        {
            webhooks.Notify();
            foreach (var e in events) logger.LogWarning("Alert {Rule} {State}: value {Value}, threshold {Threshold}", e.Rule, e.State, e.Value, e.Threshold);
        }
        return events;
    }

    // Every rule was evaluated (by any instance) within half an interval of `now`.
    private bool EvaluatedWithin(IReadOnlyDictionary<string, AlertStateRow> states, DateTimeOffset now) =>
        rules.Rules.All(r => states.TryGetValue(r.Name, out var s) && now - DbTime.Parse(s.EvaluatedAt) < rules.Interval / 2);

    private async Task<IReadOnlyDictionary<string, double?>> MeasureAsync(System.Data.IDbConnection connection, System.Data.IDbTransaction? tx, DateTimeOffset now)
    {
        var values = new Dictionary<string, double?>(StringComparer.Ordinal);
        foreach (var rule in rules.Rules) values[rule.Name] = await AlertStore.MeasureAsync(connection, tx, rule, now);
        return values;
    }

    /// The rules a caller may see (its tenant's; a super admin's choice, or all for null) with their stored states.
    public async Task<IReadOnlyList<AlertRuleStatus>> StatusAsync(string? tenant, CancellationToken ct = default)
    {
        var visible = rules.Rules.Where(r => tenant is null || r.Tenant == tenant).ToList();
        if (visible.Count == 0) return [];
        await using var connection = await database.OpenAsync(ct);
        var states = await AlertStore.StatesAsync(connection, null);
        return visible.Select(r => states.TryGetValue(r.Name, out var s)
            ? new AlertRuleStatus(r, s.State, s.Value, DbTime.Parse(s.ChangedAt))
            : new AlertRuleStatus(r, AlertState.Ok, null, null)).ToList();
    }

    /// The latest events of the rules a caller may see, newest first.
    public async Task<IReadOnlyList<AlertEventRow>> EventsAsync(string? tenant, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await AlertStore.EventsAsync(connection, tenant, EventsShown);
    }

    /// The rules firing for a caller: its tenant's (every rule for a super admin).
    public async Task<IReadOnlyList<AlertRuleStatus>> FiringAsync(Caller caller, CancellationToken ct = default) =>
        rules.Rules.Count == 0 || (!caller.IsSuperAdmin && caller.TenantId is null) ? []
            : (await StatusAsync(caller.IsSuperAdmin ? null : caller.TenantId, ct)).Where(s => s.State == AlertState.Firing).ToList();
}

/// Alerts in JSON: `/api/alerts` and the webhooks' `alert` object.
public static class AlertJson
{
    public sealed record RuleJson(string Name, string Kind, double Threshold, double? Value, string State, string? Tenant, string? Workflow, double? WindowMinutes);

    public sealed record EventJson(long Id, string Rule, string State, double? Value, double Threshold, DateTimeOffset At);

    public sealed record WebhookJson(long Id, string Rule, string Kind, string State, double? Value, double Threshold, DateTimeOffset At, string? Tenant, string? Workflow);

    public static RuleJson Rule(AlertRuleStatus s) =>
        new(s.Rule.Name, s.Rule.Kind, s.Rule.Threshold, s.Value, s.State, s.Rule.Tenant, s.Rule.Workflow, s.Rule.WindowMinutes);

    public static EventJson Event(AlertEventRow e) => new(e.Id, e.Rule, e.State, e.Value, e.Threshold, DbTime.Parse(e.At));

    public static WebhookJson Event(AlertEventRow e, AlertRule rule) =>
        new(e.Id, e.Rule, rule.Kind, e.State, e.Value, e.Threshold, DbTime.Parse(e.At), rule.Tenant, rule.Workflow);
}
