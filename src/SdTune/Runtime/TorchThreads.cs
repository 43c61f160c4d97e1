using System.Globalization;
using TorchSharp;

namespace SdTune.Runtime;

/// <summary>
/// The number of threads libtorch computes one CPU operation with (its intra-op pool, which also sets OpenMP's and
/// MKL's). libtorch's default is one per core; on a busy machine fewer can be much faster, and the count changes
/// the order of summation, so the same seed gives the same numbers only with the same thread count.
/// </summary>
/// <remarks>
/// The inter-op pool is left alone: eager TorchSharp code does not use it, and libtorch lets a process size it only
/// once, before any parallel work.
/// </remarks>
public static class TorchThreads
{
    /// <summary>The most threads <see cref="Set"/> accepts.</summary>
    public const int Max = 1024;

    /// <summary>The number of threads libtorch computes with now.</summary>
    public static int Current => torch.get_num_threads();

    /// <summary>Makes libtorch compute with <paramref name="threads"/> threads from now on, for the whole process.</summary>
    /// <param name="threads">From 1 to <see cref="Max"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is outside 1 to <see cref="Max"/>.</exception>
    public static void Set(int threads)
    {
        if (threads is < 1 or > Max)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, string.Create(CultureInfo.InvariantCulture, $"--threads: {threads} is out of range; expected an integer from 1 to {Max}."));
        }

        torch.set_num_threads(threads);
    }

    /// <summary>Sets <paramref name="threads"/> until the returned object is disposed, which restores the count before.</summary>
    /// <param name="threads">From 1 to <see cref="Max"/>.</param>
    public static IDisposable Use(int threads)
    {
        var previous = Current;
        Set(threads);
        return new Restore(previous);
    }

    private sealed class Restore(int threads) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (!disposed)
            {
                disposed = true;
                torch.set_num_threads(threads);
            }
        }
    }
}
