using System.Collections;

namespace SdTune.Checkpoints.Pickle;

/// <summary>An immutable Python tuple. Equality is structural so tuples work as dictionary keys.</summary>
public sealed class PickleTuple : IReadOnlyList<object?>, IEquatable<PickleTuple>
{
    // Structural comparison stops here; deeper nesting compares by reference so hostile input cannot
    // exhaust the call stack.
    private const int MaxStructuralDepth = 32;

    private const int MaxShownDepth = 4;
    private const int MaxShownItems = 8;
    private const int MaxShownText = 64;

    private readonly object?[] _items;

    internal PickleTuple(object?[] items) => _items = items;

    /// <summary>A tuple of <paramref name="items"/> (to write, or to look a tuple key up).</summary>
    public static PickleTuple Of(params object?[] items) => new([.. items]);

    /// <summary>The empty tuple.</summary>
    public static PickleTuple Empty { get; } = new([]);

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <inheritdoc/>
    public object? this[int index] => _items[index];

    /// <inheritdoc/>
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(PickleTuple? other) => other is not null && ItemsEqual(this, other, 0);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PickleTuple other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Hash(this, 0);

    /// <summary>Python-like text, bounded in depth and length: error messages print tuples read from hostile files.</summary>
    public override string ToString() => Describe(this, 0);

    internal void ReplaceAt(int index, object? value) => _items[index] = value;

    private static string Describe(PickleTuple tuple, int depth)
    {
        if (depth == MaxShownDepth)
        {
            return "(...)";
        }

        var items = tuple._items.Take(MaxShownItems).Select(item => item switch
        {
            null => "None",
            PickleTuple inner => Describe(inner, depth + 1),
            _ => item.ToString() is { Length: > MaxShownText } text ? text[..MaxShownText] + "..." : item.ToString(),
        });
        var more = tuple._items.Length > MaxShownItems ? $", ... ({tuple._items.Length} items)" : "";
        return "(" + string.Join(", ", items) + more + (tuple._items.Length == 1 ? ",)" : ")");
    }

    private static bool ItemsEqual(PickleTuple a, PickleTuple b, int depth)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a._items.Length != b._items.Length || depth >= MaxStructuralDepth)
        {
            return false;
        }

        for (var i = 0; i < a._items.Length; i++)
        {
            var equal = (a._items[i], b._items[i]) switch
            {
                (PickleTuple x, PickleTuple y) => ItemsEqual(x, y, depth + 1),
                (var x, var y) => Equals(x, y),
            };
            if (!equal)
            {
                return false;
            }
        }

        return true;
    }

    private static int Hash(PickleTuple tuple, int depth)
    {
        var hash = new HashCode();
        hash.Add(tuple._items.Length);
        if (depth < MaxStructuralDepth)
        {
            foreach (var item in tuple._items)
            {
                hash.Add(item is PickleTuple inner ? Hash(inner, depth + 1) : item?.GetHashCode() ?? 0);
            }
        }

        return hash.ToHashCode();
    }
}
