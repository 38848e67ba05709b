using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Api;

/// Creates that arrive together are written together (PostgreSQL: one statement a group, `CreateGroups`; SQLite: the
/// writer's group commit), and each still hears its own answer: a second create of an id is refused alone, a create
/// the store refuses fails alone, and the others' runs are there with their steps, errors, activity and counts.
public class CreateGroupsTests(RunMonitorFactory factory) : IClassFixture<RunMonitorFactory>
{
    protected readonly RunMonitorFactory Factory = factory;
    private readonly HttpClient _client = factory.CreateClient();

    private Database Store => Factory.Services.GetRequiredService<Database>();

    protected static object Body(string id, string workflow, string? name = null) => new
    {
        id, workflowName = workflow, name = name ?? id, status = "running",
        steps = new[] { new { stepId = "a", skillId = (string?)"s.a" }, new { stepId = "b", skillId = (string?)null } },
        errors = new[] { new { topic = "t", error = "e of " + id } },
    };

    /// Sends every body at once; on PostgreSQL all but the first wait in one queue while the first's group is held,
    /// so they make one group (`HeldAsync`).
    protected virtual async Task<HttpResponseMessage[]> PostTogetherAsync(IReadOnlyList<object> bodies) =>
        await Task.WhenAll(bodies.Select(b => _client.PostAsJsonAsync("/api/runs", b)));

    private async Task AssertStoredAsync(string workflow, IReadOnlyCollection<string> ids)
    {
        foreach (var id in ids)
        {
            var run = await _client.GetJsonAsync($"/api/runs/{id}");
            Assert.Equal(workflow, (string?)run["workflowName"]);
            Assert.Equal(id, (string?)run["name"]);
            Assert.Equal(2, (long?)run["stepsTotal"]);
            Assert.Equal("e of " + id, (string?)run["errors"]![0]!["error"]);
            var steps = await _client.GetJsonAsync($"/api/runs/{id}/steps");
            Assert.Equal(["a", "b"], steps.AsArray().Select(s => (string?)s!["stepId"]));
            Assert.Equal("s.a", (string?)steps[0]!["skillId"]);
        }
        await using var connection = await Store.OpenAsync();
        Assert.Equal(ids.Count, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM run_activity AS a JOIN runs AS r ON r.tenant_id = a.tenant_id AND r.id = a.run_id WHERE r.workflow_name = @Workflow AND a.action = 'created'",
            new { Workflow = workflow }));
        Assert.Equal(ids.Count, await connection.ExecuteScalarAsync<long>(
            "SELECT COALESCE(SUM(n), 0) FROM run_counts WHERE workflow_name = @Workflow AND status = 'running'", new { Workflow = workflow }));
        Assert.NotNull(await connection.ExecuteScalarAsync<string?>(
            "SELECT last_seen_at FROM workflows WHERE tenant_id = 'default' AND workflow_name = @Workflow", new { Workflow = workflow }));
    }

    [Fact]
    public async Task Create_ManyAtOnceWithOneIdThrice_OneCreatedTwoConflictOthersCreated()
    {
        var unique = Enumerable.Range(0, 21).Select(i => $"grp-{i}").ToList();
        var bodies = unique.Take(10).Select(id => Body(id, "grouped")).Concat(Enumerable.Repeat(0, 3).Select(_ => Body("grp-dup", "grouped")))
            .Concat(unique.Skip(10).Select(id => Body(id, "grouped"))).ToList();

        var responses = await PostTogetherAsync(bodies);

        var codes = responses.Select(r => r.StatusCode).ToList();
        Assert.All(codes.Take(10).Concat(codes.Skip(13)), c => Assert.Equal(HttpStatusCode.Created, c));
        Assert.Equal(1, codes.Skip(10).Take(3).Count(c => c == HttpStatusCode.Created));
        foreach (var conflict in responses.Skip(10).Take(3).Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
        }
        await AssertStoredAsync("grouped", [.. unique, "grp-dup"]);
    }

    [Fact]
    public async Task Create_OneOfAGroupRefusedByTheStore_OnlyThatOneFails()
    {
        await using (var connection = await Store.OpenAsync())
            await connection.ExecuteAsync(RefuseSql);
        // SQLite's writer keeps its statements compiled against the schema it read: it opens anew and reads the trigger.
        Store.CloseConnections();
        var ids = Enumerable.Range(0, 9).Select(i => $"refuse-{i}").ToList();
        var bodies = ids.Take(4).Select(id => Body(id, "refused")).Append(Body("refuse-x", "refused", "refused-by-the-store"))
            .Concat(ids.Skip(4).Select(id => Body(id, "refused"))).ToList();

        var responses = await PostTogetherAsync(bodies);

        Assert.Equal(HttpStatusCode.InternalServerError, responses[4].StatusCode);
        foreach (var r in responses.Take(4).Concat(responses.Skip(5)))
            Assert.True(r.StatusCode == HttpStatusCode.Created, $"{(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/runs/refuse-x")).StatusCode);
        await AssertStoredAsync("refused", ids);
    }

    /// A trigger that refuses one name, as a constraint the app does not know of would.
    protected virtual string RefuseSql => """
        CREATE TRIGGER IF NOT EXISTS refuse_one_name BEFORE INSERT ON runs WHEN NEW.name = 'refused-by-the-store'
        BEGIN SELECT RAISE(ABORT, 'refused by the store'); END;
        """;
}

public sealed class CreateGroupsTestsOnPostgres(PostgresFactory factory) : CreateGroupsTests(factory), IClassFixture<PostgresFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    protected override string RefuseSql => """
        CREATE OR REPLACE FUNCTION refuse_one_name() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by the store'; END $$;
        DROP TRIGGER IF EXISTS refuse_one_name ON runs;
        CREATE TRIGGER refuse_one_name BEFORE INSERT ON runs FOR EACH ROW WHEN (NEW.name = 'refused-by-the-store') EXECUTE FUNCTION refuse_one_name();
        """;

    /// The first create's statement waits on a lock this test holds, so every other create queues behind it and the
    /// next group takes them all (no second group starts beside the held one here); the lock is let go once they have.
    protected override async Task<HttpResponseMessage[]> PostTogetherAsync(IReadOnlyList<object> bodies)
    {
        var groups = Factory.Services.GetRequiredService<CreateGroups>();
        var minSecondGroup = groups.MinSecondGroup;
        groups.MinSecondGroup = int.MaxValue;
        try { return await PostBehindHeldAsync(bodies); }
        finally { groups.MinSecondGroup = minSecondGroup; }
    }

    private async Task<HttpResponseMessage[]> PostBehindHeldAsync(IReadOnlyList<object> bodies)
    {
        var groups = Factory.Services.GetRequiredService<CreateGroups>();
        await using var holder = await Factory.Services.GetRequiredService<Database>().OpenAsync();
        await using var tx = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("LOCK TABLE run_activity IN SHARE MODE", transaction: tx);
        var first = _client.PostAsJsonAsync("/api/runs", bodies[0]);
        var waiting = await holder.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM pg_locks WHERE relation = 'run_activity'::regclass AND NOT granted", transaction: tx);
        for (var i = 0; waiting == 0 && i < 500; i++)
        {
            await Task.Delay(20);
            waiting = await holder.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM pg_locks WHERE relation = 'run_activity'::regclass AND NOT granted", transaction: tx);
        }
        Assert.Equal(1, waiting);
        var rest = bodies.Skip(1).Select(b => _client.PostAsJsonAsync("/api/runs", b)).ToList();
        for (var i = 0; groups.Queued < rest.Count && i < 500; i++) await Task.Delay(20);
        Assert.Equal(rest.Count, groups.Queued);
        await tx.RollbackAsync();
        return [await first, .. await Task.WhenAll(rest)];
    }

    [Fact]
    public async Task Create_ManyAtOnce_OneTransactionForTheGroup()
    {
        var ids = Enumerable.Range(0, 12).Select(i => $"one-tx-{i}").ToList();

        var responses = await PostTogetherAsync(ids.Select(id => (object)new { id, workflowName = "one-tx" }).ToList());

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        await using var connection = await Factory.Services.GetRequiredService<Database>().OpenAsync();
        // The first create alone, then the eleven that queued behind it in one transaction.
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(DISTINCT xmin::text) FROM runs WHERE workflow_name = 'one-tx'"));
    }

    /// A group writes `run_errors` only when one of its runs reports errors (`GroupParts.Errors`): the statement
    /// without the table writes the others whole, the one with it writes each run's own errors and no others.
    [Fact]
    public async Task Create_GroupsWithAndWithoutErrors_EachRunHasItsOwnErrors()
    {
        object Plain(string id) => new { id, workflowName = "parts", status = "running", steps = new[] { new { stepId = "a" } } };
        var mixed = new[] { "parts-0", "parts-1", "parts-2", "parts-3" };
        var plain = new[] { "parts-4", "parts-5", "parts-6", "parts-7" };

        var first = await PostTogetherAsync(mixed.Select(id => id == "parts-2" ? Body(id, "parts") : Plain(id)).ToList());
        var second = await PostTogetherAsync(plain.Select(Plain).ToList());

        Assert.All(first.Concat(second), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        await using var connection = await Factory.Services.GetRequiredService<Database>().OpenAsync();
        var errors = (await connection.QueryAsync<(string RunId, string Error)>(
            "SELECT run_id, error FROM run_errors WHERE run_id LIKE 'parts-%'")).ToList();
        Assert.Equal([("parts-2", "e of parts-2")], errors);
        Assert.Equal(8, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM steps WHERE run_id LIKE 'parts-%' AND step_id = 'a'"));
        Assert.Equal(8, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM run_activity WHERE run_id LIKE 'parts-%' AND action = 'created'"));
        // Three groups of three runs (the held first create of each call is written alone).
        Assert.Equal(4, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(DISTINCT xmin::text) FROM runs WHERE workflow_name = 'parts'"));
    }

    /// A group moves its workflow's row only when this instance has not moved it within `WorkflowSightingInterval` (by
    /// the app's clock): a workflow new to the instance is inserted, one moved a moment ago is left as it is, and once the
    /// interval has passed the row comes to the group's newest run again.
    [Fact]
    public async Task Create_GroupsOfAWorkflowMovedAMomentAgo_LeaveItsRowUntilTheIntervalPasses()
    {
        await using var connection = await Factory.Services.GetRequiredService<Database>().OpenAsync();
        Task<string?> LastSeenAsync() => connection.ExecuteScalarAsync<string?>(
            "SELECT last_seen_at FROM workflows WHERE tenant_id = 'default' AND workflow_name = 'sighted'");
        Task<string?> NewestRunAsync() => connection.ExecuteScalarAsync<string?>(
            "SELECT MAX(updated_at) FROM runs WHERE tenant_id = 'default' AND workflow_name = 'sighted'");
        // The held first create of each call is of another workflow: only the group writes `sighted`.
        List<object> Bodies(string prefix) =>
            [new { id = prefix + "-held", workflowName = "sighting-holder" }, .. Enumerable.Range(0, 3).Select(i => new { id = $"{prefix}-{i}", workflowName = "sighted" })];
        var half = CreateGroups.WorkflowSightingInterval / 2;

        Assert.All(await PostTogetherAsync(Bodies("sighted-a")), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var inserted = await LastSeenAsync();
        Assert.NotNull(inserted);
        Assert.Equal(await NewestRunAsync(), inserted);

        Factory.Clock.Advance(half);
        Assert.All(await PostTogetherAsync(Bodies("sighted-b")), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(inserted, await LastSeenAsync());
        Assert.True(string.CompareOrdinal(await NewestRunAsync(), inserted) > 0);

        Factory.Clock.Advance(half);
        Assert.All(await PostTogetherAsync(Bodies("sighted-c")), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(await NewestRunAsync(), await LastSeenAsync());
    }

    /// Many writers at once, none held: writers start and stop as the queue fills and empties (a create queued while
    /// one stops must still be written), each create hears its own answer, and no writer is left running.
    [Fact]
    public async Task Create_ManyWritersAtOnce_EveryCreateWrittenAndNoWriterLeft()
    {
        var groups = Factory.Services.GetRequiredService<CreateGroups>();
        const int Writers = 16, Each = 25;

        var answers = await Task.WhenAll(Enumerable.Range(0, Writers).Select(async w =>
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < Each; i++)
            {
                // Now and then a pause, so the queue empties and the writers stop between bursts.
                if (i % 5 == 4) await Task.Delay(w % 3);
                using var response = await _client.PostAsJsonAsync("/api/runs", new { id = $"many-{w}-{i}", workflowName = "many" });
                codes.Add(response.StatusCode);
            }
            return codes;
        })).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(answers.SelectMany(a => a), code => Assert.Equal(HttpStatusCode.Created, code));
        await using var connection = await Factory.Services.GetRequiredService<Database>().OpenAsync();
        Assert.Equal(Writers * Each, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE workflow_name = 'many'"));
        Assert.Equal(Writers * Each, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM run_activity WHERE run_id LIKE 'many-%' AND action = 'created'"));
        // Fewer transactions than creates: some were written together.
        Assert.True(await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT xmin::text) FROM runs WHERE workflow_name = 'many'") < Writers * Each);
        // The last writer lets go of its count after its group's answers are out.
        for (var i = 0; groups.WritersRunning > 0 && i < 100; i++) await Task.Delay(10);
        Assert.Equal(0, groups.WritersRunning);
        Assert.Equal(0, groups.Queued);
    }

    /// Groups are written on their own pool of two connections: after a burst of reads has filled the store's pool
    /// with idle connections, the groups still go to at most two server backends (the store's pool hands out its idle
    /// connections in turn, and each would have had to prepare the statement and warm its caches).
    [Fact]
    public async Task Create_AfterReadsOpenedManyConnections_GroupsAreWrittenOnTwoBackends()
    {
        var store = Factory.Services.GetRequiredService<Database>();
        var held = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => store.OpenAsync()));
        foreach (var connection in held) await connection.ExecuteScalarAsync<long>("SELECT 1");
        foreach (var connection in held) await connection.DisposeAsync();

        for (var round = 0; round < 6; round++)
        {
            var responses = await PostTogetherAsync(Enumerable.Range(0, 3).Select(i => (object)new { id = $"backends-{round}-{i}", workflowName = "backends" }).ToList());
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        }

        await using var reader = await store.OpenAsync();
        var writers = await reader.ExecuteScalarAsync<long>("""
            SELECT COUNT(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'WITH r AS (INSERT INTO runs %'
            """);
        Assert.InRange(writers, 1, CreateGroups.Writers);
        Assert.Equal(18, await reader.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE workflow_name = 'backends'"));
    }

    /// A second group starts beside one being written once four creates wait for it, and not before; later creates wait
    /// for either to end. An id sent in both groups is created by one and answered 409 in the other.
    [Fact]
    public async Task Create_WhileAGroupIsWritten_ASecondGroupOfFourStartsBesideIt()
    {
        var groups = Factory.Services.GetRequiredService<CreateGroups>();
        Assert.Equal(4, groups.MinSecondGroup);
        await using var holder = await Factory.Services.GetRequiredService<Database>().OpenAsync();
        await using var tx = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("LOCK TABLE run_activity IN SHARE MODE", transaction: tx);
        async Task UntilAsync(Func<Task<bool>> done)
        {
            for (var i = 0; !await done() && i < 500; i++) await Task.Delay(20);
            Assert.True(await done());
        }
        // Backends of this database held by another: the first group by this lock, the second by the first's transaction
        // (it writes beside-0 again). pg_locks is read live; pg_stat_activity would keep its first answer for the transaction.
        Task<long> WaitingOnLockAsync() => holder.ExecuteScalarAsync<long>("""
            SELECT COUNT(DISTINCT pid) FROM pg_locks
            WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND cardinality(pg_blocking_pids(pid)) > 0
            """, transaction: tx);

        var first = _client.PostAsJsonAsync("/api/runs", new { id = "beside-0", workflowName = "beside" });
        await UntilAsync(async () => await WaitingOnLockAsync() == 1);
        var second = new List<Task<HttpResponseMessage>>();
        foreach (var id in new[] { "beside-1", "beside-2", "beside-0" })
        {
            second.Add(_client.PostAsJsonAsync("/api/runs", new { id, workflowName = "beside" }));
            await UntilAsync(() => Task.FromResult(groups.Queued == second.Count));
        }
        // Three wait: no second group yet.
        await Task.Delay(200);
        Assert.Equal(3, groups.Queued);
        Assert.Equal(1, await WaitingOnLockAsync());
        second.Add(_client.PostAsJsonAsync("/api/runs", new { id = "beside-3", workflowName = "beside" }));
        await UntilAsync(async () => groups.Queued == 0 && await WaitingOnLockAsync() == 2);
        var third = Enumerable.Range(4, 3).Select(i => _client.PostAsJsonAsync("/api/runs", new { id = $"beside-{i}", workflowName = "beside" })).ToList();
        await UntilAsync(() => Task.FromResult(groups.Queued == 3));
        await tx.RollbackAsync();

        var firstAnswer = (await first).StatusCode;
        var secondAnswers = (await Task.WhenAll(second)).Select(r => r.StatusCode).ToList();
        // beside-0 went into both groups while both were held: whichever commits first creates it (the order of the two
        // statements is PostgreSQL's), and the other caller hears it is taken. One 201 and one 409, never two of either.
        var firstWon = firstAnswer == HttpStatusCode.Created;
        Assert.Equal(firstWon ? HttpStatusCode.Conflict : HttpStatusCode.Created, secondAnswers[2]);
        Assert.Equal(firstWon ? HttpStatusCode.Created : HttpStatusCode.Conflict, firstAnswer);
        Assert.All(new[] { secondAnswers[0], secondAnswers[1], secondAnswers[3] }, a => Assert.Equal(HttpStatusCode.Created, a));
        Assert.All(await Task.WhenAll(third), r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        await using var connection = await Factory.Services.GetRequiredService<Database>().OpenAsync();
        Assert.Equal(7, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE workflow_name = 'beside'"));
        Assert.Equal(7, await connection.ExecuteScalarAsync<long>(
            "SELECT COALESCE(SUM(n), 0) FROM run_counts WHERE workflow_name = 'beside'"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM run_activity WHERE run_id = 'beside-0' AND action = 'created'"));
        // The second group's new runs in one transaction (with beside-0 when it won it), the first group's apart; the
        // last three in others.
        var transactions = (await connection.QueryAsync<(string Id, string Tx)>(
            "SELECT id, xmin::text FROM runs WHERE workflow_name = 'beside'")).ToDictionary(r => r.Id, r => r.Tx);
        Assert.Equal(firstWon ? 3 : 4, transactions.Values.Count(t => t == transactions["beside-1"]));
        Assert.Equal(transactions["beside-1"], transactions["beside-3"]);
        Assert.Equal(!firstWon, transactions["beside-0"] == transactions["beside-1"]);
        Assert.DoesNotContain(transactions["beside-4"], new[] { transactions["beside-0"], transactions["beside-1"] });
    }
}
