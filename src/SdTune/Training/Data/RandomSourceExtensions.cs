namespace SdTune.Training.Data;

/// <summary>Shuffles and choices on any <see cref="IRandomSource"/>.</summary>
public static class RandomSourceExtensions
{
    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="random">The random source.</param>
    /// <param name="items">The list to shuffle.</param>
    public static void Shuffle<T>(this IRandomSource random, IList<T> items)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(items);
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>One element chosen uniformly.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="random">The random source.</param>
    /// <param name="items">A non-empty list.</param>
    public static T Choice<T>(this IRandomSource random, IReadOnlyList<T> items)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfZero(items.Count);
        return items[random.NextInt(items.Count)];
    }
}
