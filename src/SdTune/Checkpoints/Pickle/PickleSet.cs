using System.Collections;

namespace SdTune.Checkpoints.Pickle;

/// <summary>A Python <c>set</c> or <c>frozenset</c> read from a pickle; items keep the order in which they were pickled.</summary>
public sealed class PickleSet : IReadOnlyCollection<object?>
{
    private static readonly object NullItem = new();

    private readonly List<object?> _items = [];
    private readonly HashSet<object> _seen = [];

    internal PickleSet(bool isFrozen) => IsFrozen = isFrozen;

    /// <summary>True for a <c>frozenset</c>.</summary>
    public bool IsFrozen { get; }

    /// <inheritdoc/>
    public int Count => _items.Count;

    /// <summary>Whether the set holds an item.</summary>
    /// <param name="item">The item to look for.</param>
    public bool Contains(object? item) => _seen.Contains(item ?? NullItem);

    /// <inheritdoc/>
    public IEnumerator<object?> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal void Add(object? item)
    {
        if (_seen.Add(item ?? NullItem))
        {
            _items.Add(item);
        }
    }
}
