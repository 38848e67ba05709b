using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace RunMonitor.Web.Demo;

/// One prepared single-row INSERT on the connection's own handle, bound by position: the provider's
/// per-execution work (parameters found by name, a data reader per row, boxed values) costs more than
/// SQLite's insert itself at this volume. It runs inside the connection's open transaction.
internal sealed class RowInsert : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public RowInsert(SqliteConnection connection, string table, string[] columns)
        : this(connection, $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "?" + (i + 1).ToString(CultureInfo.InvariantCulture)))})")
    {
    }

    /// `sql` takes its parameters by position: ?1, ?2, ...
    public RowInsert(SqliteConnection connection, string sql)
    {
        _db = connection.Handle!;
        Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
        var parameters = raw.sqlite3_bind_parameter_count(_statement);
        _lastText = new object?[parameters + 1];
        _lastNumber = new long[parameters + 1];
        _lastKind = new byte[parameters + 1];
    }

    private byte[] _utf8 = new byte[4096];

    // SQLite keeps a statement's values across resets, and each bind is a native call: a value that is
    // the same as the previous row's (the same string, number or null) is left bound as it is.
    private readonly object?[] _lastText = [];
    private readonly long[] _lastNumber = [];
    private readonly byte[] _lastKind = [];
    private const byte Unbound = 0, Null = 1, TextKind = 2, IntKind = 3, RealKind = 4;

    private bool Same(int index, byte kind, object? text, long number) =>
        _lastKind[index] == kind && ReferenceEquals(_lastText[index], text) && _lastNumber[index] == number;

    private void Remember(int index, byte kind, object? text, long number)
    {
        _lastKind[index] = kind;
        _lastText[index] = text;
        _lastNumber[index] = number;
    }

    private void BindNull(int index)
    {
        if (Same(index, Null, null, 0)) return;
        Check(raw.sqlite3_bind_null(_statement, index));
        Remember(index, Null, null, 0);
    }

    // Encoded into one reused buffer (SQLite copies it): no allocation per value.
    public void Text(int index, string? value)
    {
        if (value is null) { BindNull(index); return; }
        if (Same(index, TextKind, value, 0)) return;
        var most = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (most > _utf8.Length) _utf8 = new byte[most];
        var length = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, length)));
        Remember(index, TextKind, value, 0);
    }

    public void Int(int index, long? value)
    {
        if (value is not { } v) { BindNull(index); return; }
        if (Same(index, IntKind, null, v)) return;
        Check(raw.sqlite3_bind_int64(_statement, index, v));
        Remember(index, IntKind, null, v);
    }

    public void Real(int index, double? value)
    {
        if (value is not { } v) { BindNull(index); return; }
        var bits = BitConverter.DoubleToInt64Bits(v);
        if (Same(index, RealKind, null, bits)) return;
        Check(raw.sqlite3_bind_double(_statement, index, v));
        Remember(index, RealKind, null, bits);
    }

    public void Execute()
    {
        var rc = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE) Check(rc);
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Dispose() => _statement.Dispose();
}
