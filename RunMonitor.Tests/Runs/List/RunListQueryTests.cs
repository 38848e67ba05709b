using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RunMonitor.Tests.Data;
using RunMonitor.Tests.Infrastructure;
using RunMonitor.Web.Data;
using RunMonitor.Web.Runs;
using RunMonitor.Web.Security;

namespace RunMonitor.Tests.Runs;

/// `RunListQuery`: every list page and total is read by SQLite's planner over a seeded store (a full scan of runs or
/// steps fails, so a new filter cannot quietly walk the table), and the name search reads its index or its window.
public sealed class RunListQueryTests(QueryPlanTests.SeededFactory factory) : IClassFixture<QueryPlanTests.SeededFactory>
{
    /// The list's filter for `query` as the super admin and as a tenant's viewer, each with who it is.
    private static IEnumerable<(RunFilter Filter, string Who)> FiltersFor(string query)
    {
        foreach (var caller in new[] { new Caller(null, Roles.Admin), new Caller("acme", Roles.Viewer) })
        {
            var (filter, error) = RunFilter.Parse(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)
                .ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()), caller);
            Assert.Null(error);
            yield return (filter!, caller.TenantId ?? "super admin");
        }
    }

    /// The page and total queries of the list for `query`, as the super admin and as a tenant's viewer.
    internal static async Task<IReadOnlyList<(string What, string Sql, object Parameters)>> ListStatementsAsync(Database database, string query)
    {
        var statements = new List<(string, string, object)>();
        foreach (var (filter, who) in FiltersFor(query))
        {
            await using var connection = await database.OpenAsync();
            var list = await new RunListQuery(database.Dialect).BuildAsync(connection, filter);
            statements.Add(($"list '{query}' as {who}", list.ItemsSql, list.Parameters));
            statements.Add(($"count '{query}' as {who}", list.CountSql, list.Parameters));
        }
        return statements;
    }

    /// The page statements that read on from a cursor (the 11th run of the first page, both ways) for `query`, with the
    /// duration sort's tail and the count a jump from a place makes of the cursor's part.
    internal static async Task<IReadOnlyList<(string What, string Sql, object Parameters)>> CursorStatementsAsync(Database database, string query)
    {
        var statements = new List<(string, string, object)>();
        foreach (var (filter, who) in FiltersFor(query))
        {
            await using var connection = await database.OpenAsync();
            var listQuery = new RunListQuery(database.Dialect);
            var first = await listQuery.BuildAsync(connection, filter);
            var rows = (await connection.QueryAsync<RunRow>(first.ItemsSql, first.Parameters)).ToList();
            Assert.True(rows.Count > 10, $"'{query}' needs more than 10 runs to page");
            foreach (var before in new[] { false, true })
            {
                var built = await listQuery.BuildAsync(connection, filter with { Cursor = RunCursor.From(rows[10], filter, before) });
                var what = $"{(before ? "before" : "after")} '{query}' as {who}";
                statements.Add((what, built.ItemsSql, built.Parameters));
                if (built.TailSql is not null) statements.Add((what + " (tail)", built.TailSql, built.Parameters));
                if (built.HeadCountSql is not null) statements.Add((what + " (a jump's count of its part)", built.HeadCountSql, built.Parameters));
            }
        }
        return statements;
    }

    public static TheoryData<string> CursorQueries() =>
    [
        "", "sort=created", "status=failed", "status=failed,partial", "layer_name=nightly-user-reflection",
        "layer_name=nightly-user-reflection&status=failed", "sort=status", "sort=-status", "sort=duration", "sort=-duration",
        "status=failed&sort=-duration", "q=nightly&sort=status", "q=nightly",
    ];

    [Theory]
    [MemberData(nameof(CursorQueries))]
    public async Task List_CursorPage_UsesIndexes(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        await QueryPlanTests.AssertNoFullScansAsync(database, await CursorStatementsAsync(database, query));
    }

    [Theory]
    [InlineData("")]
    [InlineData("status=failed")]
    [InlineData("sort=status")]
    public async Task List_CursorPage_SeeksInTheSortsIndexWithoutSorting(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        foreach (var (what, sql, parameters) in await CursorStatementsAsync(database, query))
        {
            var plan = await QueryPlanTests.PlanAsync(database, sql, parameters);
            Assert.False(plan.Any(line => line.Contains("TEMP B-TREE", StringComparison.Ordinal)), $"{what} sorts:\n  {string.Join("\n  ", plan)}");
            Assert.Contains(plan, line => line.Contains("SEARCH runs USING", StringComparison.Ordinal) && (line.Contains('<') || line.Contains('>')));
        }
    }

    public static TheoryData<string> ListQueries() =>
    [
        "", "status=failed", "status=failed,partial", "status=queued", "layer_name=nightly-user-reflection",
        "layer_name=nightly-user-reflection&status=failed", "q=zzzz-no-such-run", "q=reflection", "q=Nightly",
        "q=0", "from=2026-11-10&to=2026-11-12", "from=2026-11-10T08:00:00Z", "sort=created", "sort=status",
        "sort=-status", "sort=duration", "sort=-duration", "offset=5000", "status=failed&sort=-duration",
        "layer_name=channel-digest&q=digest&sort=-duration", "q=nightly&sort=-duration", "q=nightly&sort=status&status=failed,partial",
        "q=nightly&layer_name=channel-digest", "q=nightly&offset=5000", "q=nightly&to=2026-11-01", "q=sweep 1&sort=duration",
        "q=Ünïcödé", "q=été digest&sort=-duration",
    ];

    [Theory]
    [MemberData(nameof(ListQueries))]
    public async Task List_EveryFilter_UsesIndexesForPageAndTotal(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        await QueryPlanTests.AssertNoFullScansAsync(database, await ListStatementsAsync(database, query));
    }

    [Fact]
    public async Task List_SearchWithFewMatches_IsDrivenByTheNameIndex()
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        var (filter, _) = RunFilter.Parse(new Dictionary<string, string?[]> { ["q"] = ["zzzz-no-such-run"] }, new Caller(null, Roles.Admin));
        await using var connection = await database.OpenAsync();
        var list = await factory.Services.GetRequiredService<RunListQuery>().BuildAsync(connection, filter!);

        var plan = await QueryPlanTests.PlanAsync(database, list.ItemsSql, list.Parameters);

        // The trigram index's matches arrive as a list (read once, before the page and the count).
        Assert.Contains(plan, line => line.Contains("json_each", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => Regex.IsMatch(line, @"^SCAN runs\b"));
    }

    // The newest runs first, as the list orders them: a window of the newest N is this query's first N.
    private const string NewestNames = """
        SELECT name FROM runs WHERE (@Tenant IS NULL OR tenant_id = @Tenant) AND (@To IS NULL OR created_at < @To)
        ORDER BY created_at DESC, pk DESC LIMIT @Window
        """;

    [Theory]
    [InlineData(null, null)] // 21,000 runs: the newest 10,000 are searched
    [InlineData("acme", null)] // 7,000 runs: every one is searched
    [InlineData(null, "2026-11-01")] // the window moved back by a date range
    public async Task List_CommonSearchTerm_IsSearchedInTheNewestRunsOfTheView(string? tenant, string? to)
    {
        await factory.Seeded;
        var query = new Dictionary<string, string?[]> { ["q"] = ["nightly"] };
        if (tenant is not null) query["tenant"] = [tenant];
        if (to is not null) query["to"] = [to];
        var (filter, _) = RunFilter.Parse(query, new Caller(null, Roles.Admin));
        await using var connection = await factory.Services.GetRequiredService<Database>().OpenAsync();
        // A date without a time includes that whole day.
        var before = to is null ? null : DateTime.Parse(to, System.Globalization.CultureInfo.InvariantCulture).AddDays(1).ToString("yyyy-MM-dd") + "T00:00:00.000Z";
        var everywhere = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runs WHERE name LIKE '%nightly%'");
        var inView = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM runs WHERE (@Tenant IS NULL OR tenant_id = @Tenant) AND (@To IS NULL OR created_at < @To)", new { Tenant = tenant, To = before });
        var searched = (await connection.QueryAsync<string?>(NewestNames, new { Tenant = tenant, To = before, Window = RunListQuery.SearchWindow })).ToList();
        var truth = searched.Count(n => n?.Contains("nightly", StringComparison.OrdinalIgnoreCase) == true);

        var page = await factory.Services.GetRequiredService<RunList>().ListAsync(filter!);

        Assert.True(everywhere > 10_000, $"the term must be common enough for the newest-first path ({everywhere} matches)");
        Assert.Equal(inView > RunListQuery.SearchWindow ? RunListQuery.SearchWindow : null, page.SearchedNewest);
        // Older runs than the window may match too: the total is a floor.
        Assert.Equal((truth, page.SearchedNewest is not null), (page.Total, page.TotalCapped));
        Assert.Equal(RunFilter.DefaultLimit, page.Items.Count);
        Assert.All(page.Items, run => Assert.Contains("nightly", run.Name!, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(page.Items.OrderByDescending(r => r.CreatedAt, StringComparer.Ordinal).Select(r => r.Id), page.Items.Select(r => r.Id));
    }

    [Fact]
    public async Task List_CommonSearchTerm_SaysWhatWasSearched_AndOtherSortsKeepTheWindow()
    {
        await factory.Seeded;
        var client = factory.CreateClient();

        var newest = await client.GetDocumentAsync("/ui/runs/list?q=nightly&sort=-duration");
        var note = newest.QuerySelector("p.search-window")?.TextContent ?? "";
        Assert.Contains("newest 10,000 runs", note);
        // The longest sweeps are the oldest ones (duration grows with age); outside the window, they are not shown.
        var durations = newest.QuerySelectorAll("table.runs-table tbody tr[data-run-id]").Select(tr => tr.GetAttribute("data-run-id")!).ToList();
        Assert.Equal(RunFilter.DefaultLimit, durations.Count);
        Assert.DoesNotContain("sweep012000", durations);

        var older = await client.GetDocumentAsync("/ui/runs/list?q=nightly+sweep&sort=-duration&to=2026-10-23");
        Assert.Equal("sweep012000", older.QuerySelector("table.runs-table tbody tr[data-run-id]")?.GetAttribute("data-run-id"));

        var json = await client.GetJsonAsync("/api/runs?q=nightly");
        Assert.Equal(RunListQuery.SearchWindow, (int)json["searchedNewest"]!);
        Assert.True((bool)json["totalCapped"]!);
        var total = (int)json["total"]!;
        Assert.EndsWith($"of {total:N0}+", newest.QuerySelector(".page-info")!.TextContent.Trim());
        // The window's last page is the list's last: no Next into runs the window left out.
        var last = await client.GetDocumentAsync($"/ui/runs/list?q=nightly&offset={total - 5}");
        Assert.Equal(5, last.QuerySelectorAll("table.runs-table tbody tr[data-run-id]").Length);
        Assert.Null(last.QuerySelector("a[rel=next]"));
        Assert.Null((await client.GetJsonAsync($"/api/runs?q=nightly&offset={total - 20}"))["next"]);
        var few = await client.GetJsonAsync("/api/runs?q=zzzz-no-such-run");
        Assert.Null(few["searchedNewest"]);
        Assert.Null((await client.GetDocumentAsync("/ui/runs/list?q=zzzz-no-such-run")).QuerySelector("p.search-window"));
    }
}

/// `RunListQuery` on PostgreSQL: the same list statements planned with sequential scans priced out.
public sealed class RunListQueryTestsOnPostgres(PostgresQueryPlanTests.SeededFactory factory) : IClassFixture<PostgresQueryPlanTests.SeededFactory>
{
    [Theory]
    [MemberData(nameof(RunListQueryTests.ListQueries), MemberType = typeof(RunListQueryTests))]
    public async Task List_EveryFilter_UsesIndexesForPageAndTotal(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        await PostgresQueryPlanTests.AssertNoFullScansAsync(database, await RunListQueryTests.ListStatementsAsync(database, query));
    }

    [Theory]
    [MemberData(nameof(RunListQueryTests.CursorQueries), MemberType = typeof(RunListQueryTests))]
    public async Task List_CursorPage_UsesIndexes(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        await PostgresQueryPlanTests.AssertNoFullScansAsync(database, await RunListQueryTests.CursorStatementsAsync(database, query));
    }

    [Theory]
    [InlineData("")]
    [InlineData("status=failed")]
    [InlineData("sort=status")]
    [InlineData("sort=-duration")]
    public async Task List_CursorPage_StartsTheIndexScanAtTheCursor(string query)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        foreach (var (what, sql, parameters) in await RunListQueryTests.CursorStatementsAsync(database, query))
        {
            if (what.EndsWith("(tail)", StringComparison.Ordinal)) continue;
            var plan = await PostgresQueryPlanTests.PlanAsync(database, sql, parameters);
            // The row comparison bounds the scan (an index condition), rather than filtering rows read from the top.
            Assert.True(plan.Any(line => line.Contains("Index Cond", StringComparison.Ordinal) && line.Contains("ROW(", StringComparison.Ordinal)),
                $"{what} does not seek to the cursor:\n  {string.Join("\n  ", plan)}");
        }
    }

    [Theory]
    [InlineData("zzzz-no-such-run")]
    [InlineData("zzzz-ünïcödé")]
    public async Task List_NameSearch_ReadsTheTrigramIndex(string q)
    {
        await factory.Seeded;
        var database = factory.Services.GetRequiredService<Database>();
        var (filter, _) = RunFilter.Parse(new Dictionary<string, string?[]> { ["q"] = [q] }, new Caller(null, Roles.Admin));
        await using var connection = await database.OpenAsync();
        var list = await factory.Services.GetRequiredService<RunListQuery>().BuildAsync(connection, filter!);

        var plan = await PostgresQueryPlanTests.PlanAsync(database, list.CountSql, list.Parameters);

        Assert.Contains(plan, line => line.Contains("trgm", StringComparison.Ordinal));
    }
}
