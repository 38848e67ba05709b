using System.Collections;
using System.Data;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace RunMonitor.Web.Data;

/// Statements the SQLite writer runs on every write, compiled once per writer connection instead of once per
/// call. Microsoft.Data.Sqlite prepares every new command afresh, and preparing an INSERT into `runs` compiles
/// its triggers and every index update into the program: that took longer than running it. The writer
/// connection is long-lived (`Database` keeps it), so a statement kept per SQL text stays compiled.
/// Any other connection (the readers, PostgreSQL, whose driver prepares on its own) goes through Dapper as before.
public static partial class PreparedStatements
{
    private static readonly ConditionalWeakTable<SqliteConnection, StatementCache> Caches = new();

    /// From now on `connection` keeps the statements run on it through `ExecutePreparedAsync` and
    /// `QuerySingleOrDefaultPreparedAsync`.
    internal static void Keep(SqliteConnection connection) => Caches.AddOrUpdate(connection, new StatementCache());

    /// Finalizes the connection's kept statements (before the connection itself is closed).
    internal static void Forget(SqliteConnection connection)
    {
        if (!Caches.TryGetValue(connection, out var cache)) return;
        Caches.Remove(connection);
        cache.Dispose();
    }

    /// How many SQL texts `connection` keeps compiled (none when it is not a kept connection).
    internal static int KeptCount(SqliteConnection connection) => Caches.TryGetValue(connection, out var cache) ? cache.Count : 0;

    /// Dapper's `ExecuteAsync`, with the statement kept when `connection` is the writer's. `param` may be
    /// one object or a sequence of them (the statement runs once per element), as with Dapper.
    public static Task<int> ExecutePreparedAsync(this IDbConnection connection, string sql, object? param, IDbTransaction? transaction)
    {
        if (KeptBy(connection) is not { } cache || param is DynamicParameters)
            return connection.ExecuteAsync(sql, param, transaction);
        var command = cache.Command((SqliteConnection)connection, sql, (SqliteTransaction?)transaction);
        if (param is IEnumerable many and not string)
        {
            var total = 0;
            foreach (var one in many) total += command.Execute(one, null);
            return Task.FromResult(total);
        }
        return Task.FromResult(command.Execute(param, null));
    }

    /// As above for one object, with one more parameter the object has no property for (a guard's expected value).
    public static Task<int> ExecutePreparedAsync(this IDbConnection connection, string sql, object param, (string Name, object? Value) extra, IDbTransaction? transaction)
    {
        if (KeptBy(connection) is not { } cache)
        {
            var parameters = new DynamicParameters(param);
            parameters.Add(extra.Name, extra.Value);
            return connection.ExecuteAsync(sql, parameters, transaction);
        }
        return Task.FromResult(cache.Command((SqliteConnection)connection, sql, (SqliteTransaction?)transaction).Execute(param, extra));
    }

    /// Dapper's `QuerySingleOrDefaultAsync`, with the statement kept when `connection` is the writer's.
    public static Task<T?> QuerySingleOrDefaultPreparedAsync<T>(this IDbConnection connection, string sql, object? param, IDbTransaction? transaction)
    {
        if (KeptBy(connection) is not { } cache || param is DynamicParameters)
            return connection.QuerySingleOrDefaultAsync<T>(sql, param, transaction);
        var command = cache.Command((SqliteConnection)connection, sql, (SqliteTransaction?)transaction);
        return Task.FromResult(command.QuerySingleOrDefault<T>(param));
    }

    // The statements `connection` keeps: null for any connection but a writer's.
    private static StatementCache? KeptBy(IDbConnection connection) =>
        connection is SqliteConnection sqlite && Caches.TryGetValue(sqlite, out var cache) ? cache : null;

    [GeneratedRegex(@"(?<![@\w])@(\w+)")]
    private static partial Regex ParameterName();

    private sealed class StatementCache : IDisposable
    {
        // The writer's statements are a few dozen fixed SQL texts, and a run's update one for each set of columns it
        // changes (a handful in use); a bound keeps a caller building SQL from data (it should not) from growing the
        // cache without end.
        private const int MaxStatements = 128;
        private readonly Dictionary<string, KeptCommand> _commands = new(StringComparer.Ordinal);

        public int Count => _commands.Count;

        public KeptCommand Command(SqliteConnection connection, string sql, SqliteTransaction? transaction)
        {
            if (!_commands.TryGetValue(sql, out var kept))
            {
                if (_commands.Count >= MaxStatements) Clear();
                kept = new KeptCommand(connection, sql);
                _commands[sql] = kept;
            }
            kept.Transaction = transaction;
            return kept;
        }

        private void Clear()
        {
            foreach (var kept in _commands.Values) kept.Dispose();
            _commands.Clear();
        }

        public void Dispose() => Clear();
    }

    /// One SQL text, compiled once. Writes run it on the connection's own handle, bound by position: the
    /// provider's per-execution work (every parameter looked up by name, a data reader per statement) cost
    /// more than some of the statements themselves. Reads go through a kept provider command, so Dapper
    /// maps their rows as everywhere else.
    private sealed class KeptCommand : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly string _sql;
        private readonly string[] _names;
        // One binder per parameter type: a SQL text may be run with different (anonymous) types.
        private readonly Dictionary<Type, Func<object, object?>?[]> _binders = [];
        private readonly object?[] _values;
        private sqlite3_stmt? _statement;
        private int[] _positions = [];
        private bool _readOnly;
        private SqliteCommand? _query;

        public KeptCommand(SqliteConnection connection, string sql)
        {
            _connection = connection;
            _sql = sql;
            _names = ParameterName().Matches(sql).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToArray();
            _values = new object?[_names.Length];
        }

        public SqliteTransaction? Transaction { get; set; }

        public int Execute(object? param, (string Name, object? Value)? extra)
        {
            Bind(param, extra);
            var db = _connection.Handle!;
            if (_statement is null)
            {
                var rc = raw.sqlite3_prepare_v2(db, _sql, out var statement);
                if (rc != raw.SQLITE_OK)
                {
                    statement.Dispose();
                    SqliteException.ThrowExceptionForRC(rc, db);
                }
                _statement = statement;
                _positions = _names.Select(name => raw.sqlite3_bind_parameter_index(statement, "@" + name)).ToArray();
                _readOnly = raw.sqlite3_stmt_readonly(statement) != 0;
            }
            for (var i = 0; i < _values.Length; i++) BindAt(_positions[i], _values[i], i);
            var step = raw.sqlite3_step(_statement);
            while (step == raw.SQLITE_ROW) step = raw.sqlite3_step(_statement);
            if (step != raw.SQLITE_DONE)
            {
                try { SqliteException.ThrowExceptionForRC(step, db); }
                finally { raw.sqlite3_reset(_statement); }
            }
            var changed = _readOnly ? 0 : raw.sqlite3_changes(db);
            raw.sqlite3_reset(_statement);
            return changed;
        }

        private void BindAt(int position, object? value, int i)
        {
            var rc = value switch
            {
                null => raw.sqlite3_bind_null(_statement, position),
                string text => raw.sqlite3_bind_text(_statement, position, text),
                long number => raw.sqlite3_bind_int64(_statement, position, number),
                int number => raw.sqlite3_bind_int64(_statement, position, number),
                bool flag => raw.sqlite3_bind_int64(_statement, position, flag ? 1 : 0),
                double real => raw.sqlite3_bind_double(_statement, position, real),
                byte[] bytes => raw.sqlite3_bind_blob(_statement, position, bytes),
                _ => throw new NotSupportedException($"@{_names[i]}: a {value.GetType().Name} is not bound by the writer's kept statements"),
            };
            if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }

        public T? QuerySingleOrDefault<T>(object? param)
        {
            Bind(param, null);
            if (_query is null)
            {
                _query = _connection.CreateCommand();
                _query.CommandText = _sql;
                foreach (var name in _names) _query.Parameters.Add(new SqliteParameter("@" + name, DBNull.Value));
            }
            _query.Transaction = Transaction;
            for (var i = 0; i < _values.Length; i++) _query.Parameters[i].Value = _values[i] ?? DBNull.Value;
            using var reader = _query.ExecuteReader(CommandBehavior.SingleResult);
            if (!reader.Read()) return default;
            var parse = reader.GetRowParser<T>();
            var row = parse(reader);
            if (reader.Read()) throw new InvalidOperationException("Sequence contains more than one element");
            return row;
        }

        private void Bind(object? param, (string Name, object? Value)? extra)
        {
            if (_names.Length == 0) return;
            ArgumentNullException.ThrowIfNull(param);
            var type = param.GetType();
            if (!_binders.TryGetValue(type, out var getters))
            {
                // The extra parameter's name gets no getter: its value comes with each call.
                getters = _names.Select(name => name == extra?.Name ? null : Getter(type, name)).ToArray();
                _binders[type] = getters;
            }
            for (var i = 0; i < getters.Length; i++)
            {
                _values[i] = getters[i] is { } get ? get(param)
                    : extra is { } given && given.Name == _names[i] ? given.Value
                    : throw new InvalidOperationException($"the statement names @{_names[i]}, which no value was given for");
            }
        }

        // As Dapper matches them: the property of that name, ignoring case.
        private static Func<object, object?> Getter(Type type, string name)
        {
            var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance)
                ?? type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                ?? throw new InvalidOperationException($"the statement names @{name}, which {type.Name} does not have");
            var instance = Expression.Parameter(typeof(object));
            var value = Expression.Property(Expression.Convert(instance, type), property);
            return Expression.Lambda<Func<object, object?>>(Expression.Convert(value, typeof(object)), instance).Compile();
        }

        public void Dispose()
        {
            _statement?.Dispose();
            _query?.Dispose();
        }
    }
}
