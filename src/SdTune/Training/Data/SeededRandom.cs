namespace SdTune.Training.Data;

/// <summary>
/// A small deterministic generator (SplitMix64) whose sequence depends only on its seed, on every platform and
/// runtime version, so that a run can be reproduced and resumed. <see cref="For"/> derives independent streams
/// from a seed and a path of integers (for example seed, epoch, sample).
/// </summary>
public sealed class SeededRandom : IRandomSource
{
    private ulong _state;

    /// <summary>Creates a generator from a 64-bit seed.</summary>
    /// <param name="seed">The seed.</param>
    public SeededRandom(ulong seed)
    {
        _state = seed;
    }

    /// <summary>A generator for one purpose, derived from a seed and a path of integers.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="path">What the stream is for, for example (purpose, epoch, sample index).</param>
    public static SeededRandom For(long seed, params ReadOnlySpan<long> path)
    {
        var state = Mix(unchecked((ulong)seed) ^ 0x5DEECE66DUL);
        foreach (var p in path)
        {
            state = Mix(state ^ Mix(unchecked((ulong)p) + 0x9E3779B97F4A7C15UL));
        }

        return new SeededRandom(state);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state = unchecked(_state + 0x9E3779B97F4A7C15UL);
        return Mix(_state);
    }

    /// <inheritdoc/>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <inheritdoc/>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);

        // Rejection sampling keeps every value equally likely.
        var bound = (ulong)maxExclusive;
        var limit = ulong.MaxValue - (ulong.MaxValue % bound);
        ulong r;
        do
        {
            r = NextUInt64();
        }
        while (r >= limit);
        return (int)(r % bound);
    }

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
