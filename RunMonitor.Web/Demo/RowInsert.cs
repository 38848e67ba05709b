using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace RunMonitor.Web.Demo;

/// One prepared single-row INSERT on the connection's own handle, bound by position from a `RowBuffer`: the
/// provider's per-execution work (parameters found by name, a data reader per row, boxed values) costs more
/// than SQLite's insert itself at this volume. It runs inside the connection's open transaction.
internal sealed class RowInsert : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly int _parameters;

    public RowInsert(SqliteConnection connection, string table, string[] columns)
        : this(connection, $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "?" + (i + 1).ToString(CultureInfo.InvariantCulture)))})")
    {
    }

    /// `sql` takes its parameters by position: ?1, ?2, ...
    public RowInsert(SqliteConnection connection, string sql)
    {
        _db = connection.Handle!;
        Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
        _parameters = raw.sqlite3_bind_parameter_count(_statement);
    }

    /// Every row of `rows` (encoded for this statement's parameters), one step each.
    public void InsertAll(RowBuffer rows)
    {
        if (rows.Columns != _parameters) throw new ArgumentException($"rows of {rows.Columns} values for a statement of {_parameters}", nameof(rows));
        var bytes = rows.Bytes;
        var at = 0;
        for (var row = 0; row < rows.Rows; row++)
        {
            for (var index = 1; index <= _parameters; index++)
            {
                switch (bytes[at++])
                {
                    case RowBuffer.SameKind:
                        break;
                    case RowBuffer.NullKind:
                        Check(raw.sqlite3_bind_null(_statement, index));
                        break;
                    case RowBuffer.IntKind:
                        Check(raw.sqlite3_bind_int64(_statement, index, BinaryPrimitives.ReadInt64LittleEndian(bytes[at..])));
                        at += 8;
                        break;
                    case RowBuffer.RealKind:
                        Check(raw.sqlite3_bind_double(_statement, index, BinaryPrimitives.ReadDoubleLittleEndian(bytes[at..])));
                        at += 8;
                        break;
                    case RowBuffer.TextKind:
                        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
                        Check(raw.sqlite3_bind_text(_statement, index, bytes.Slice(at + 4, length)));
                        at += 4 + length;
                        break;
                    default:
                        throw new InvalidOperationException($"value kind {bytes[at - 1]} at byte {at - 1}");
                }
            }
            Execute();
        }
    }

    private void Execute()
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
