using System.Diagnostics;
using Dapper;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.States;
using Npgsql;

namespace RunMonitor.Peers;

/// The jobs a campaign engine on Hangfire runs (what the dashboard lists as "CampaignJobs.Generate").
public static class CampaignJobs
{
    // No automatic retries: a failure is Failed at once (with retries it would be Scheduled until they ran out).
    [AutomaticRetry(Attempts = 0)]
    public static void Generate(string campaignId, int rounds) { }
}

/// Fills Hangfire's PostgreSQL schema with N jobs over D days, 85% succeeded, 10% failed with an exception and its
/// stack trace, 5% enqueued: three template jobs are made by Hangfire itself (its client and state machine, so every
/// row, state and parameter is as Hangfire writes it), then cloned in SQL with their times moved and their arguments
/// and messages varied, and the counters the dashboard reads written as Hangfire's aggregator leaves them.
public static class HangfireLoader
{
    public const string Schema = "hangfire";

    public static IGlobalConfiguration Configure(IGlobalConfiguration configuration, string connectionString) => configuration
        .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
        .UseSimpleAssemblyNameTypeSerializer()
        .UseRecommendedSerializerSettings()
        .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions { SchemaName = Schema, PrepareSchemaIfNecessary = true });

    private static readonly string[] Messages =
    [
        "Model call exceeded 60s while generating reflection for 14 users",
        "Rate limit reached for gpt-4o-mini in organization org-demo on tokens per min",
        "Bundle step failed: asset bgm_track.ogg is 0 bytes",
        "Validation failed: campaign has no prizes",
    ];

    public static async Task LoadAsync(string connectionString, int jobs, int days, TextWriter output)
    {
        var watch = Stopwatch.StartNew();
        Configure(GlobalConfiguration.Configuration, connectionString);
        var client = new BackgroundJobClient(JobStorage.Current);

        var succeeded = client.Create(() => CampaignJobs.Generate("cmp_TEMPLATE", 3), new EnqueuedState("default"));
        client.ChangeState(succeeded, Processing("worker-1"), EnqueuedState.StateName);
        client.ChangeState(succeeded, new SucceededState(null, 35, 1_200), ProcessingState.StateName);
        var failed = client.Create(() => CampaignJobs.Generate("cmp_TEMPLATE", 3), new EnqueuedState("default"));
        client.ChangeState(failed, Processing("worker-2"), EnqueuedState.StateName);
        client.ChangeState(failed, new FailedState(Thrown()), ProcessingState.StateName);
        var enqueued = client.Create(() => CampaignJobs.Generate("cmp_TEMPLATE", 3), new EnqueuedState("default"));

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var json = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            $"SELECT data_type FROM information_schema.columns WHERE table_schema = '{Schema}' AND table_name = 'state' AND column_name = 'data'", transaction: tx));
        // Hangfire.PostgreSql keeps state data as jsonb in recent schemas and text in older ones.
        var cast = json == "jsonb" ? "" : "::text";
        var sql = Load
            .Replace("{cast}", cast)
            .Replace("{schema}", Schema);
        await connection.ExecuteAsync(new CommandDefinition(sql, new
        {
            Jobs = jobs, Days = days, Succeeded = long.Parse(succeeded), Failed = long.Parse(failed), Enqueued = long.Parse(enqueued),
            Messages,
        }, tx, commandTimeout: 0));
        await tx.CommitAsync();
        await connection.ExecuteAsync(new CommandDefinition(
            $"ANALYZE {Schema}.job; ANALYZE {Schema}.state; ANALYZE {Schema}.jobparameter; ANALYZE {Schema}.jobqueue; ANALYZE {Schema}.aggregatedcounter", commandTimeout: 0));
        output.WriteLine($"Loaded {jobs:N0} Hangfire jobs over {days} days in {watch.Elapsed.TotalSeconds:F1}s");
    }

    // A worker's Processing state; Hangfire 1.8 makes its constructor internal (only its workers enter the state).
    private static ProcessingState Processing(string workerId) => (ProcessingState)Activator.CreateInstance(typeof(ProcessingState),
        System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic, null, ["peer-server:1", workerId], null)!;

    private static Exception Thrown()
    {
        try { throw new TimeoutException(Messages[0]); }
        catch (TimeoutException e) { return e; }
    }

    // Template states are cloned one second apart (enqueued, processing, then the final state); ids are given
    // explicitly (a stride per job of the longest template history) so each job's stateid is known as the job is
    // written, then the sequences move past them.
    private const string Load = """
        SET LOCAL TIME ZONE 'UTC';
        CREATE TEMP TABLE peer_plan ON COMMIT DROP AS
        SELECT g AS n,
               CASE WHEN g % 20 = 0 THEN 'enqueued' WHEN g % 10 = 3 THEN 'failed' ELSE 'succeeded' END AS kind,
               now() - make_interval(secs => @Days * 86400.0 * (@Jobs - g) / @Jobs) - interval '5 seconds' AS at
        FROM generate_series(1, @Jobs) g;

        CREATE TEMP TABLE peer_template ON COMMIT DROP AS
        SELECT * FROM (VALUES ('succeeded', @Succeeded::bigint), ('failed', @Failed::bigint), ('enqueued', @Enqueued::bigint)) t (kind, job_id);

        CREATE TEMP TABLE peer_template_state ON COMMIT DROP AS
        SELECT t.kind, row_number() OVER (PARTITION BY t.kind ORDER BY s.id) AS k, s.name, s.reason, s.data::jsonb AS data
        FROM peer_template t JOIN {schema}.state s ON s.jobid = t.job_id;

        CREATE TEMP TABLE peer_base ON COMMIT DROP AS
        SELECT (SELECT max(id) FROM {schema}.job) + 1000 AS job_base, (SELECT max(id) FROM {schema}.state) + 1000 AS state_base,
               (SELECT max(k) FROM peer_template_state) AS stride;

        INSERT INTO {schema}.job (id, stateid, statename, invocationdata, arguments, createdat, expireat)
        SELECT b.job_base + p.n, b.state_base + (p.n - 1) * b.stride + m.last_k, j.statename,
               replace(j.invocationdata::text, 'cmp_TEMPLATE', 'cmp_' || p.n)::jsonb{cast},
               replace(j.arguments::text, 'cmp_TEMPLATE', 'cmp_' || p.n)::jsonb{cast},
               p.at, NULL
        FROM peer_plan p
        CROSS JOIN peer_base b
        JOIN peer_template t ON t.kind = p.kind
        JOIN {schema}.job j ON j.id = t.job_id
        JOIN (SELECT kind, max(k) AS last_k FROM peer_template_state GROUP BY kind) m ON m.kind = p.kind;

        INSERT INTO {schema}.state (id, jobid, name, reason, createdat, data)
        SELECT b.state_base + (p.n - 1) * b.stride + s.k, b.job_base + p.n, s.name, s.reason, p.at + make_interval(secs => s.k - 1),
               (s.data
                 || CASE WHEN s.data ? 'EnqueuedAt' THEN jsonb_build_object('EnqueuedAt', to_char(p.at, 'YYYY-MM-DD"T"HH24:MI:SS.US"0Z"')) ELSE '{}'::jsonb END
                 || CASE WHEN s.data ? 'StartedAt' THEN jsonb_build_object('StartedAt', to_char(p.at + interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.US"0Z"')) ELSE '{}'::jsonb END
                 || CASE WHEN s.data ? 'SucceededAt' THEN jsonb_build_object('SucceededAt', to_char(p.at + interval '2 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.US"0Z"'),
                        'PerformanceDuration', (400 + p.n % 9000)::text) ELSE '{}'::jsonb END
                 || CASE WHEN s.data ? 'FailedAt' THEN jsonb_build_object('FailedAt', to_char(p.at + interval '2 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.US"0Z"'),
                        'ExceptionMessage', (@Messages::text[])[1 + p.n % 4],
                        'ExceptionDetails', replace(s.data ->> 'ExceptionDetails', (@Messages::text[])[1], (@Messages::text[])[1 + p.n % 4])) ELSE '{}'::jsonb END
               ){cast}
        FROM peer_plan p
        CROSS JOIN peer_base b
        JOIN peer_template_state s ON s.kind = p.kind;

        INSERT INTO {schema}.jobparameter (jobid, name, value)
        SELECT b.job_base + p.n, jp.name, jp.value
        FROM peer_plan p CROSS JOIN peer_base b JOIN peer_template t ON t.kind = p.kind JOIN {schema}.jobparameter jp ON jp.jobid = t.job_id;

        INSERT INTO {schema}.jobqueue (jobid, queue)
        SELECT b.job_base + p.n, 'default' FROM peer_plan p CROSS JOIN peer_base b WHERE p.kind = 'enqueued';

        -- The templates go; their counter increments too, replaced by what the aggregator would hold for the whole load.
        DELETE FROM {schema}.jobqueue WHERE jobid IN (SELECT job_id FROM peer_template);
        DELETE FROM {schema}.jobparameter WHERE jobid IN (SELECT job_id FROM peer_template);
        DELETE FROM {schema}.state WHERE jobid IN (SELECT job_id FROM peer_template);
        DELETE FROM {schema}.job WHERE id IN (SELECT job_id FROM peer_template);
        DELETE FROM {schema}.counter;
        DELETE FROM {schema}.aggregatedcounter;
        INSERT INTO {schema}.aggregatedcounter (key, value, expireat)
        SELECT 'stats:succeeded', count(*), NULL::timestamptz FROM peer_plan WHERE kind = 'succeeded'
        UNION ALL
        SELECT 'stats:' || kind || ':' || to_char(at, 'YYYY-MM-DD'), count(*), NULL FROM peer_plan WHERE kind IN ('succeeded', 'failed') GROUP BY 1
        UNION ALL
        SELECT 'stats:' || kind || ':' || to_char(at, 'YYYY-MM-DD-HH24'), count(*), NULL FROM peer_plan
        WHERE kind IN ('succeeded', 'failed') AND at > now() - interval '24 hours' GROUP BY 1;

        SELECT setval(pg_get_serial_sequence('{schema}.job', 'id'), (SELECT max(id) FROM {schema}.job));
        SELECT setval(pg_get_serial_sequence('{schema}.state', 'id'), (SELECT max(id) FROM {schema}.state));
        """;
}
