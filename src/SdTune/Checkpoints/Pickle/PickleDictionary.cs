using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// A Python <c>dict</c> or <c>collections.OrderedDict</c> read from a pickle. Entries keep the order in which
/// the pickle inserted them (as Python does). Keys are usually strings; ints, tuples (<see cref="PickleTuple"/>,
/// compared structurally), <see cref="PickleGlobal"/> and None (a null key) also occur.
/// </summary>
public sealed class PickleDictionary : IReadOnlyDictionary<object, object?>
{
    private static readonly object NullKey = new();

    private readonly List<KeyValuePair<object, object?>> _entries = [];
    private readonly Dictionary<object, int> _index = [];

    internal PickleDictionary(bool isOrderedDict) => IsOrderedDict = isOrderedDict;

    /// <summary>A dictionary to write (<see cref="TorchCheckpointWriter.SaveObject"/>), with its entries in this order.</summary>
    /// <param name="entries">The keys and values; a key given twice keeps its first place and its last value.</param>
    /// <param name="isOrderedDict">Write a <c>collections.OrderedDict</c> rather than a plain dict.</param>
    public static PickleDictionary Of(IEnumerable<KeyValuePair<object, object?>> entries, bool isOrderedDict = false)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var dict = new PickleDictionary(isOrderedDict);
        foreach (var (key, value) in entries)
        {
            dict.Set(key, value);
        }

        return dict;
    }

    /// <summary>True for a <c>collections.OrderedDict</c> (what <c>state_dict()</c> returns), false for a plain dict.</summary>
    public bool IsOrderedDict { get; }

    /// <summary>
    /// State restored by the pickle's BUILD instruction, or null. For a module's <c>state_dict()</c> this holds
    /// the <c>_metadata</c> attribute (per-module versions).
    /// </summary>
    public object? State { get; internal set; }

    /// <inheritdoc/>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public IEnumerable<object> Keys => _entries.Select(e => e.Key);

    /// <inheritdoc/>
    public IEnumerable<object?> Values => _entries.Select(e => e.Value);

    /// <summary>The value for a key; throws <see cref="KeyNotFoundException"/> when absent.</summary>
    /// <param name="key">The key (a string for state dicts).</param>
    public object? this[object key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"Key '{key}' is not in the dictionary.");

    /// <inheritdoc/>
    public bool ContainsKey(object key) => _index.ContainsKey(key ?? NullKey);

    /// <inheritdoc/>
    public bool TryGetValue(object key, [MaybeNullWhen(false)] out object? value)
    {
        if (_index.TryGetValue(key ?? NullKey, out var position))
        {
            value = _entries[position].Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Python assignment semantics: a new key goes last, an existing key keeps its place.</summary>
    internal void Set(object? key, object? value)
    {
        var indexKey = key ?? NullKey;
        if (_index.TryGetValue(indexKey, out var position))
        {
            _entries[position] = new KeyValuePair<object, object?>(_entries[position].Key, value);
        }
        else
        {
            _index.Add(indexKey, _entries.Count);
            _entries.Add(new KeyValuePair<object, object?>(key!, value));
        }
    }

    internal KeyValuePair<object, object?> EntryAt(int position) => _entries[position];

    /// <summary>Replaces the key and value at a position (used when lazy tensors are materialised).</summary>
    internal void ReplaceAt(int position, object? key, object? value)
    {
        var old = _entries[position];
        _entries[position] = new KeyValuePair<object, object?>(key!, value);
        if (!Equals(old.Key, key))
        {
            _index.Remove(old.Key ?? NullKey);
            _index[key ?? NullKey] = position;
        }
    }
}
