using System.Data;
using System.Text;
using Dapper;

namespace RunMonitor.Web.Data;

/// SQLite's half of migration 0010 (run ids belong to their tenant), run by the migration runner before the file's
/// SQL. SQLite cannot drop `runs.id`'s UNIQUE or change a foreign key in place: runs, steps, run_errors and artifacts
/// are rebuilt (the documented "12-step" way), each from the columns it has now, whatever earlier migrations added,
/// with the keys carrying the tenant: runs UNIQUE (tenant_id, id); steps and run_errors get tenant_id, and every
/// child's foreign key is (tenant_id, run_id). Their indexes and triggers are put back as they were. A child row of
/// no run (possible only with foreign keys off) has no tenant to carry and is not carried over.
public static class TenantScopedRunIds
{
    public const int Version = 10;

    private sealed record Rebuild(string Table, string? ParentColumn, string Constraints);

    // Children after runs: each copy's foreign key is checked against the rebuilt runs.
    private static readonly Rebuild[] Tables =
    [
        new("runs", null, "UNIQUE (tenant_id, id)"),
        new("steps", "run_id", "UNIQUE (tenant_id, run_id, step_id)"),
        new("run_errors", "run_id", "UNIQUE (tenant_id, run_id, seq)"),
        new("artifacts", "run_id", ""),
    ];

    private sealed class ColumnInfo
    {
        public string Name { get; init; } = "";
        public string Type { get; init; } = "";
        public long NotNull { get; init; }
        public string? Default { get; init; }
        public long Pk { get; init; }
    }

    private const string SelectColumns = """
        SELECT name AS Name, type AS Type, "notnull" AS "NotNull", dflt_value AS "Default", pk AS Pk
        FROM pragma_table_info(@Table) ORDER BY cid
        """;

    private const string SelectIndexesAndTriggers = """
        SELECT type, name, sql FROM sqlite_master
        WHERE type IN ('index', 'trigger') AND tbl_name IN ('runs', 'steps', 'run_errors', 'artifacts') AND sql IS NOT NULL
        ORDER BY type DESC, name
        """;

    public static async Task ApplyAsync(IDbConnection connection, IDbTransaction? tx)
    {
        var kept = (await connection.QueryAsync<(string Type, string Name, string Sql)>(SelectIndexesAndTriggers, transaction: tx)).ToList();
        // Triggers first: none may fire on the copies or name a table while it is renamed.
        foreach (var (type, name, _) in kept.Where(k => k.Type == "trigger"))
            await connection.ExecuteAsync($"DROP TRIGGER {Quote(name)}", transaction: tx);
        foreach (var table in Tables)
        {
            var columns = (await connection.QueryAsync<ColumnInfo>(SelectColumns, new { table.Table }, tx)).ToList();
            await connection.ExecuteAsync(CreateSql(table, columns), transaction: tx);
            await connection.ExecuteAsync(CopySql(table, columns), transaction: tx);
        }
        // Children first: dropping runs while a child still names it would cascade into that child.
        foreach (var table in Enumerable.Reverse(Tables)) await connection.ExecuteAsync($"DROP TABLE {table.Table}", transaction: tx);
        foreach (var table in Tables) await connection.ExecuteAsync($"ALTER TABLE {table.Table}_new RENAME TO {table.Table}", transaction: tx);
        foreach (var (_, _, sql) in kept) await connection.ExecuteAsync(sql, transaction: tx);
    }

    private static string CreateSql(Rebuild table, IReadOnlyList<ColumnInfo> columns)
    {
        var parts = columns.Select(Definition).ToList();
        if (table.ParentColumn is not null)
        {
            if (columns.All(c => c.Name != "tenant_id")) parts.Add("tenant_id TEXT NOT NULL");
            parts.Add($"FOREIGN KEY (tenant_id, {table.ParentColumn}) REFERENCES runs_new (tenant_id, id) ON DELETE CASCADE");
        }
        if (table.Constraints.Length > 0) parts.Add(table.Constraints);
        return $"CREATE TABLE {table.Table}_new (\n    {string.Join(",\n    ", parts)}\n)";
    }

    // A column as it was declared: type, primary key (a single-column one: runs.pk, artifacts.id), NOT NULL, default.
    private static string Definition(ColumnInfo c)
    {
        var text = new StringBuilder(Quote(c.Name));
        if (c.Type.Length > 0) text.Append(' ').Append(c.Type);
        if (c.Pk == 1) text.Append(" PRIMARY KEY");
        if (c.NotNull != 0) text.Append(" NOT NULL");
        if (c.Default is not null) text.Append(" DEFAULT ").Append(c.Default);
        return text.ToString();
    }

    // Rows keep their rowid too (artifacts list in upload order by it), unless a column is that rowid already (runs.pk).
    private static string CopySql(Rebuild table, IReadOnlyList<ColumnInfo> columns)
    {
        var names = columns.Select(c => Quote(c.Name)).ToList();
        if (!columns.Any(c => c.Pk == 1 && c.Type.Equals("INTEGER", StringComparison.OrdinalIgnoreCase))) names.Insert(0, "rowid");
        var list = string.Join(", ", names);
        if (table.ParentColumn is null || columns.Any(c => c.Name == "tenant_id"))
            return $"INSERT INTO {table.Table}_new ({list}) SELECT {list} FROM {table.Table}";
        var qualified = string.Join(", ", names.Select(n => "child." + n));
        return $"INSERT INTO {table.Table}_new ({list}, tenant_id) SELECT {qualified}, r.tenant_id " +
               $"FROM {table.Table} AS child JOIN runs AS r ON r.id = child.{table.ParentColumn}";
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";
}
