using System.Buffers.Binary;
using System.Text;

namespace RunMonitor.Web.Demo;

/// A batch of one table's rows, encoded on the seed's generating thread for a `RowInsert` on its writing
/// thread: each value a kind byte and its bytes (text as UTF-8), in one array kept from batch to batch.
/// Runs held as objects until they were written lived through two or three collections each and were
/// copied by every one (7.7 s of collector pauses in a 1,000,000-run seed, the writer stopped with them);
/// bytes in a reused array cost the collector nothing, and the writer no longer encodes.
/// Values are added in parameter order, 1 to `columns`, then `EndRow`.
internal sealed class RowBuffer(int columns)
{
    internal const byte NullKind = 0, SameKind = 1, TextKind = 2, IntKind = 3, RealKind = 4;
    private const byte None = 0xFF;

    private byte[] _bytes = new byte[1 << 20];
    private int _length;
    private int _next = 1;

    // The previous row's value in each column: one that is the same (the same string, number or null) is
    // written as Same, and the writer leaves it bound (SQLite keeps a statement's values across resets).
    // Only within one buffer: the first row of every batch carries all its values.
    private readonly object?[] _lastText = new object?[columns + 1];
    private readonly long[] _lastNumber = new long[columns + 1];
    private readonly byte[] _lastKind = NewKinds(columns);

    public int Columns => columns;

    public int Rows { get; private set; }

    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _length);

    public void Clear()
    {
        _length = 0;
        _next = 1;
        Rows = 0;
        Array.Fill(_lastKind, None);
        Array.Clear(_lastText);
    }

    public void EndRow()
    {
        if (_next != columns + 1) throw new InvalidOperationException($"row ended after {_next - 1} of {columns} values");
        _next = 1;
        Rows++;
    }

    public void Text(int index, string? value)
    {
        if (value is null) { Nothing(index); return; }
        if (Repeats(index, TextKind, value, 0)) return;
        Ensure(5 + Encoding.UTF8.GetMaxByteCount(value.Length));
        _bytes[_length] = TextKind;
        var length = Encoding.UTF8.GetBytes(value, _bytes.AsSpan(_length + 5));
        BinaryPrimitives.WriteInt32LittleEndian(_bytes.AsSpan(_length + 1), length);
        _length += 5 + length;
    }

    public void Int(int index, long? value)
    {
        if (value is not { } v) { Nothing(index); return; }
        if (Repeats(index, IntKind, null, v)) return;
        Ensure(9);
        _bytes[_length] = IntKind;
        BinaryPrimitives.WriteInt64LittleEndian(_bytes.AsSpan(_length + 1), v);
        _length += 9;
    }

    public void Real(int index, double? value)
    {
        if (value is not { } v) { Nothing(index); return; }
        if (Repeats(index, RealKind, null, BitConverter.DoubleToInt64Bits(v))) return;
        Ensure(9);
        _bytes[_length] = RealKind;
        BinaryPrimitives.WriteDoubleLittleEndian(_bytes.AsSpan(_length + 1), v);
        _length += 9;
    }

    private void Nothing(int index)
    {
        if (Repeats(index, NullKind, null, 0)) return;
        Ensure(1);
        _bytes[_length++] = NullKind;
    }

    // Checks the value's place, remembers it, and writes SameKind when the previous row had it too.
    private bool Repeats(int index, byte kind, object? text, long number)
    {
        if (index != _next) throw new InvalidOperationException($"value {index} given where value {_next} was due");
        _next++;
        if (_lastKind[index] == kind && ReferenceEquals(_lastText[index], text) && _lastNumber[index] == number)
        {
            Ensure(1);
            _bytes[_length++] = SameKind;
            return true;
        }
        _lastKind[index] = kind;
        _lastText[index] = text;
        _lastNumber[index] = number;
        return false;
    }

    private void Ensure(int more)
    {
        if (_length + more > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + more));
    }

    private static byte[] NewKinds(int columns)
    {
        var kinds = new byte[columns + 1];
        Array.Fill(kinds, None);
        return kinds;
    }
}
