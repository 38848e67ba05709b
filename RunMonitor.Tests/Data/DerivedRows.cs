using System.Data.Common;
using System.Globalization;
using Dapper;

namespace RunMonitor.Tests.Data;

/// Rows of the derived tables (or of the same sums taken over runs), compared value by value. A cost is a sum of
/// floating-point numbers added in another order on each side, so two numbers are the same when they differ by less
/// than a billionth of their size; rounding both to six places was not enough: two sums either side of a rounding
/// boundary round apart (a seed whose random draws moved once failed that way).
internal static class DerivedRows
{
    public static async Task<List<object?[]>> ReadAsync(DbConnection connection, string sql) =>
        (await connection.QueryAsync(sql)).Select(r => ((IDictionary<string, object?>)r).Values.ToArray()).ToList();

    public static void AssertSame(IReadOnlyList<object?[]> kept, IReadOnlyList<object?[]> truth, string what) =>
        Assert.True(Same(kept, truth), $"{what} drifted from the runs:\n kept: {Show(kept)}\n true: {Show(truth)}");

    public static bool Same(IReadOnlyList<object?[]> a, IReadOnlyList<object?[]> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Length == p.Second.Length && p.First.Zip(p.Second).All(v => SameValue(v.First, v.Second)));

    public static string Show(IEnumerable<object?[]> rows) =>
        string.Join("; ", rows.Select(r => string.Join('|', r.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))));

    private static bool SameValue(object? a, object? b)
    {
        if (a is DBNull) a = null;
        if (b is DBNull) b = null;
        if (a is null || b is null) return a is null && b is null;
        if (IsFloating(a) || IsFloating(b))
        {
            if (!IsNumber(a) || !IsNumber(b)) return false;
            double x = Convert.ToDouble(a, CultureInfo.InvariantCulture), y = Convert.ToDouble(b, CultureInfo.InvariantCulture);
            return Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y)));
        }
        if (IsNumber(a) && IsNumber(b)) return Convert.ToDecimal(a, CultureInfo.InvariantCulture) == Convert.ToDecimal(b, CultureInfo.InvariantCulture);
        return Equals(a, b);
    }

    private static bool IsFloating(object v) => v is double or float or decimal;

    private static bool IsNumber(object v) => v is double or float or decimal or long or int or short or byte;
}

public sealed class DerivedRowsTests
{
    [Fact]
    public void Same_SumsEitherSideOfARoundingBoundary_AreTheSame() =>
        Assert.True(DerivedRows.Same([["t1", 3L, 0.1 + 0.2 + 1.0000005]], [["t1", 3m, 1.0000005 + 0.2 + 0.1]]));

    [Theory]
    [InlineData(3L, 4L)]
    [InlineData(1.25, 1.2501)]
    [InlineData(null, 0L)]
    [InlineData(0.0, null)]
    [InlineData("completed", "failed")]
    [InlineData("1", 1L)]
    public void Same_ValuesThatDiffer_AreNot(object? kept, object? truth) =>
        Assert.False(DerivedRows.Same([["t1", kept]], [["t1", truth]]));

    [Fact]
    public void Same_ARowMoreOrLess_IsNot() =>
        Assert.False(DerivedRows.Same([["t1", 1L]], [["t1", 1L], ["t2", 1L]]));
}
