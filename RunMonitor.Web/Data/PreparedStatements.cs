using System.Collections;
using System.Data;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Data.Sqlite;

namespace RunMonitor.Web.Data;

/// Statements the SQLite writer runs on every write, compiled once per writer connection instead of once per
/// call. Microsoft.Data.Sqlite prepares every new command afresh, and preparing an INSERT into `runs` compiles
/// its triggers and every index update into the program: that took longer than running it. The writer
/// connection is long-lived (`Database` keeps it), so a command kept per SQL text keeps its compiled statement.
/// Any other connection (the readers, PostgreSQL, whose driver prepares on its own) goes through Dapper as before.
public static partial class PreparedStatements
{
    private static readonly ConditionalWeakTable<SqliteConnection, StatementCache> Caches = new();

    /// From now on `connection` keeps the commands run on it through `ExecutePreparedAsync`/`QueryPreparedAsync`.
    internal static void Keep(SqliteConnection connection) => Caches.AddOrUpdate(connection, new StatementCache());

    /// Disposes the connection's kept commands (before the connection itself is closed).
    internal static void Forget(SqliteConnection connection)
    {
        if (!Caches.TryGetValue(connection, out var cache)) return;
        Caches.Remove(connection);
        cache.Dispose();
    }

    /// How many commands `connection` keeps (none when it is not a kept connection).
    internal static int KeptCount(SqliteConnection connection) => Caches.TryGetValue(connection, out var cache) ? cache.Count : 0;

    /// Dapper's `ExecuteAsync`, with the statement kept when `connection` is the writer's. `param` may be
    /// one object or a sequence of them (the statement runs once per element), as with Dapper.
    public static Task<int> ExecutePreparedAsync(this IDbConnection connection, string sql, object? param, IDbTransaction? transaction)
    {
        if (connection is not SqliteConnection sqlite || !Caches.TryGetValue(sqlite, out var cache) || param is DynamicParameters)
            return connection.ExecuteAsync(sql, param, transaction);
        var command = cache.Command(sqlite, sql, (SqliteTransaction?)transaction);
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
        if (connection is not SqliteConnection sqlite || !Caches.TryGetValue(sqlite, out var cache))
        {
            var parameters = new DynamicParameters(param);
            parameters.Add(extra.Name, extra.Value);
            return connection.ExecuteAsync(sql, parameters, transaction);
        }
        return Task.FromResult(cache.Command(sqlite, sql, (SqliteTransaction?)transaction).Execute(param, extra));
    }

    /// Dapper's `QuerySingleOrDefaultAsync`, with the statement kept when `connection` is the writer's.
    public static Task<T?> QuerySingleOrDefaultPreparedAsync<T>(this IDbConnection connection, string sql, object? param, IDbTransaction? transaction)
    {
        if (connection is not SqliteConnection sqlite || !Caches.TryGetValue(sqlite, out var cache) || param is DynamicParameters)
            return connection.QuerySingleOrDefaultAsync<T>(sql, param, transaction);
        var command = cache.Command(sqlite, sql, (SqliteTransaction?)transaction);
        return Task.FromResult(command.QuerySingleOrDefault<T>(param));
    }

    [GeneratedRegex(@"(?<![@\w])@(\w+)")]
    private static partial Regex ParameterName();

    private sealed class StatementCache : IDisposable
    {
        // The writer's statements are a few dozen fixed SQL texts; a bound keeps a caller building SQL from data
        // (it should not) from growing the cache without end.
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
            kept.SqliteCommand.Transaction = transaction;
            return kept;
        }

        private void Clear()
        {
            foreach (var kept in _commands.Values) kept.SqliteCommand.Dispose();
            _commands.Clear();
        }

        public void Dispose() => Clear();
    }

    private sealed class KeptCommand
    {
        private readonly string[] _names;
        // One binder per parameter type: a SQL text may be run with different (anonymous) types.
        private readonly Dictionary<Type, Func<object, object?>[]> _binders = [];

        public KeptCommand(SqliteConnection connection, string sql)
        {
            SqliteCommand = connection.CreateCommand();
            SqliteCommand.CommandText = sql;
            _names = ParameterName().Matches(sql).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToArray();
            foreach (var name in _names) SqliteCommand.Parameters.Add(new SqliteParameter("@" + name, DBNull.Value));
        }

        public SqliteCommand SqliteCommand { get; }

        public int Execute(object? param, (string Name, object? Value)? extra)
        {
            Bind(param, extra);
            return SqliteCommand.ExecuteNonQuery();
        }

        public T? QuerySingleOrDefault<T>(object? param)
        {
            Bind(param, null);
            using var reader = SqliteCommand.ExecuteReader(CommandBehavior.SingleResult);
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
                getters = _names.Select(name => name == extra?.Name ? null! : Getter(type, name)).ToArray();
                _binders[type] = getters;
            }
            for (var i = 0; i < getters.Length; i++)
            {
                var value = getters[i] is { } get ? get(param)
                    : extra is { } given && given.Name == _names[i] ? given.Value
                    : throw new InvalidOperationException($"the statement names @{_names[i]}, which no value was given for");
                SqliteCommand.Parameters[i].Value = value ?? DBNull.Value;
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
    }
}
