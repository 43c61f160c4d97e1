using System.Globalization;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>How the benchmarks' markdown tables write their numbers.</summary>
internal static class BenchmarkFormat
{
    /// <summary>A fraction as a whole percentage: 0.254 → "25%".</summary>
    public static string Percent(double fraction) => string.Create(CultureInfo.InvariantCulture, $"{fraction * 100:F0}%");

    /// <summary>A mean fraction with its spread over seeds in points ("60% ± 14") when there were several seeds, else the percentage alone.</summary>
    public static string Percent(double mean, double spread, bool severalSeeds) =>
        severalSeeds ? string.Create(CultureInfo.InvariantCulture, $"{Percent(mean)} ± {spread * 100:F0}") : Percent(mean);

    /// <summary>Training seconds, or "–" for a row that did not train.</summary>
    public static string Seconds(double seconds, bool trained) => trained ? string.Create(CultureInfo.InvariantCulture, $"{seconds:F0} s") : "–";

    /// <summary>Peak memory in MB, or "–" where unknown (negative or zero).</summary>
    public static string Memory(long bytes) => bytes > 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F0} MB") : "–";

    /// <summary>MB with two decimals; files under 10 kB (embeddings) in kB, so they do not read as 0.00 MB; "–" for a row that did not train.</summary>
    public static string OutputSize(long bytes, bool trained) => !trained ? "–"
        : bytes < 10_000 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e3:F1} kB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1e6:F2} MB");
}
