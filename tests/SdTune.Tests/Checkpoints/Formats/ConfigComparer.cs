using System.Collections;
using System.Reflection;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>Compares config records property by property, lists by their elements (records compare lists by reference).</summary>
internal sealed class ConfigComparer : IEqualityComparer<object>
{
    public static ConfigComparer Instance { get; } = new();

    public new bool Equals(object? x, object? y) => Difference(x, y) is null;

    public int GetHashCode(object obj) => 0;

    /// <summary>The first differing property, or null when equal.</summary>
    public static string? Difference(object? x, object? y)
    {
        if (x is null || y is null)
        {
            return x is null && y is null ? null : "one is null";
        }

        foreach (var property in x.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.Name == "EqualityContract")
            {
                continue;
            }

            var a = property.GetValue(x);
            var b = property.GetValue(y);
            var same = a is IEnumerable ea and not string && b is IEnumerable eb and not string
                ? ea.Cast<object?>().SequenceEqual(eb.Cast<object?>())
                : object.Equals(a, b);
            if (!same)
            {
                return $"{property.Name}: {Show(a)} vs {Show(b)}";
            }
        }

        return null;
    }

    private static string Show(object? value) => value is IEnumerable e and not string ? "[" + string.Join(", ", e.Cast<object?>()) + "]" : value?.ToString() ?? "null";
}
