namespace SdTune.ToyWorld.Benchmark;

/// <summary>How the benchmarks combine one measure over their seeds: the mean and the sample standard deviation.</summary>
internal static class SeedStatistics
{
    /// <summary>The mean of the values (at least one).</summary>
    public static double Average(IEnumerable<double> values) => values.Average();

    /// <summary>The sample standard deviation (n − 1 in the denominator); zero for fewer than two values.</summary>
    public static double SampleStd(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count < 2)
        {
            return 0;
        }

        var mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / (list.Count - 1));
    }

    /// <summary>Checks that a summary has rows to combine.</summary>
    /// <exception cref="ArgumentException">There are none.</exception>
    public static void RequireRows<T>(IReadOnlyList<T> rounds)
    {
        ArgumentNullException.ThrowIfNull(rounds);
        if (rounds.Count == 0)
        {
            throw new ArgumentException("A summary needs at least one row.", nameof(rounds));
        }
    }
}
