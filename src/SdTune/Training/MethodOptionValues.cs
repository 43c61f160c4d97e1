using System.Collections.Immutable;

namespace SdTune.Training;

/// <summary>
/// The values of the keys training methods declare (<see cref="TrainingOption{T}"/>), by key name; keys left unset
/// read as their defaults. Compared by content, so two configurations with the same settings are equal.
/// </summary>
public sealed class MethodOptionValues : IEquatable<MethodOptionValues>
{
    private readonly ImmutableSortedDictionary<string, object?> values;

    private MethodOptionValues(ImmutableSortedDictionary<string, object?> values) => this.values = values;

    /// <summary>No value set.</summary>
    public static MethodOptionValues Empty { get; } = new(ImmutableSortedDictionary.Create<string, object?>(StringComparer.Ordinal));

    /// <summary>The names of the keys that are set.</summary>
    public IEnumerable<string> Names => values.Keys;

    /// <summary>The value of <paramref name="name"/>, or <paramref name="fallback"/> when it is not set.</summary>
    public object? Get(string name, object? fallback) => values.TryGetValue(name, out var value) ? value : fallback;

    /// <summary>
    /// These values with <paramref name="name"/> set to <paramref name="value"/>; a value equal to the key's
    /// <paramref name="defaultValue"/> is held as unset, so equal settings compare equal however they were written.
    /// </summary>
    public MethodOptionValues With(string name, object? value, object? defaultValue) =>
        new(ValueEquals(value, defaultValue) ? values.Remove(name) : values.SetItem(name, value));

    /// <inheritdoc />
    public bool Equals(MethodOptionValues? other) =>
        other is not null && values.Count == other.values.Count && values.All(kv => other.values.TryGetValue(kv.Key, out var v) && ValueEquals(kv.Value, v));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as MethodOptionValues);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (key, _) in values)
        {
            hash.Add(key, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    private static bool ValueEquals(object? a, object? b) =>
        a is IReadOnlyList<string> x && b is IReadOnlyList<string> y ? x.SequenceEqual(y, StringComparer.Ordinal) : Equals(a, b);
}
