using System.Data;
using System.Data.Common;
using Dapper;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Web.Alerts;

/// Retention for the alerts' history: events recorded before the cutoff go, as old runs do (a rule that flaps records
/// two an evaluation, every 30 seconds). A rule's state (`alert_states`, one row a rule) stays: a rule firing for longer
/// than the period still fires and says since when; only its event of that time is gone.
public sealed class AlertEventRetention(ISqlDialect dialect) : IRunPurgeListener
{
    /// Events a transaction: the writer is held for one short delete at a time.
    public const int PurgeBatch = 5000;

    // The oldest first by ix_alert_events_at, then deleted by their primary key.
    private const string SelectOlder = "SELECT id FROM alert_events WHERE at < @Cutoff ORDER BY at LIMIT @Limit";
    private const string DeleteEvents = "DELETE FROM alert_events WHERE id IN @Ids";

    async Task<bool> IRunPurgeListener.PurgeOlderAsync(DbConnection connection, IDbTransaction tx, string cutoff, CancellationToken ct)
    {
        var ids = (await connection.QueryAsync<long>(new CommandDefinition(SelectOlder, new { Cutoff = cutoff, Limit = PurgeBatch }, tx, cancellationToken: ct))).ToArray();
        if (ids.Length == 0) return false;
        await connection.ExecuteAsync(new CommandDefinition(dialect.Lists(DeleteEvents), new { Ids = ids }, tx, cancellationToken: ct));
        return ids.Length == PurgeBatch;
    }

    public static IEnumerable<(string What, string Sql, object Parameters, string Index)> RetentionStatements() =>
    [
        ("alert events before the cutoff", SelectOlder, new { Cutoff = "2026-11-01T00:00:00.000Z", Limit = PurgeBatch }, "ix_alert_events_at"),
    ];
}
