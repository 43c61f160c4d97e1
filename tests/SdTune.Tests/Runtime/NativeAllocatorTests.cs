using SdTune.Runtime;
using static TorchSharp.torch;

namespace SdTune.Tests.Runtime;

/// <summary>Measures this process's resident memory, so it runs alone: other tests allocating meanwhile would blur it.</summary>
[CollectionDefinition(nameof(NativeAllocatorTests), DisableParallelization = true)]
public sealed class NativeAllocatorCollection;

[Collection(nameof(NativeAllocatorTests))]
public sealed class NativeAllocatorTests
{
    [Fact]
    public void Freed_blocks_between_live_ones_leave_resident_memory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Assert.True(NativeAllocator.ReleaseFreedMemoryPromptly());
        Assert.Equal(NativeAllocator.DefaultThresholdBytes, NativeAllocator.ThresholdBytes);

        // 48 blocks of 4 MB, written so they are resident; every other one is freed. From a heap the holes would stay
        // resident; mapped on their own they go back to the system at once.
        const int count = 48;
        var blocks = new Tensor[count];
        for (var i = 0; i < count; i++)
        {
            blocks[i] = ones(1024 * 1024, dtype: ScalarType.Float32);
        }

        var before = ResidentBytes();
        for (var i = 0; i < count; i += 2)
        {
            blocks[i].Dispose();
        }

        var released = before - ResidentBytes();
        for (var i = 1; i < count; i += 2)
        {
            blocks[i].Dispose();
        }

        // 24 x 4 MB = 96 MB freed; allow for the runtime's own activity.
        Assert.True(released > 64_000_000, $"only {released / 1e6:F0} MB of 96 MB freed went back to the system");
    }

    [Fact]
    public void A_threshold_below_a_page_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => NativeAllocator.ReleaseFreedMemoryPromptly(1024));

    private static long ResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
