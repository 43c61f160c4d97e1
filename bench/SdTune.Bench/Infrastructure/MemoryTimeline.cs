using System.Diagnostics;
using SdTune.Runtime;

namespace SdTune.Bench.Infrastructure;

/// <summary>
/// Samples this process's resident memory every few milliseconds on a background thread and writes a line to
/// stderr whenever it moved by more than a threshold since the last line, and for every <see cref="Mark"/>: shows
/// which phase of a run the peak belongs to.
/// </summary>
internal sealed class MemoryTimeline : IDisposable
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Thread thread;
    private readonly long threshold;
    private volatile bool stop;
    private long last;

    public MemoryTimeline(long thresholdBytes = 250_000_000)
    {
        threshold = thresholdBytes;
        thread = new Thread(Loop) { IsBackground = true, Name = "memory timeline" };
        thread.Start();
    }

    public void Mark(string label) =>
        Console.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,7:F1} s] {label}: rss {ProcessMemory.ResidentBytes() / 1e9:F2} GB, peak {ProcessMemory.PeakResidentBytes() / 1e9:F2} GB");

    public void Dispose()
    {
        stop = true;
        thread.Join();
    }

    private void Loop()
    {
        while (!stop)
        {
            var rss = ProcessMemory.ResidentBytes();
            if (Math.Abs(rss - last) > threshold)
            {
                last = rss;
                Console.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,7:F1} s] rss {rss / 1e9:F2} GB");
            }

            Thread.Sleep(5);
        }
    }
}
