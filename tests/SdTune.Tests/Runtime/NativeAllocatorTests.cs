using SdTune.Runtime;

namespace SdTune.Tests.Runtime;

/// <summary>
/// The allocator setting itself. Its effect on memory is measured by the LoRA training benchmark (SDXL at 1024 px:
/// 16.1 GB peak without, 11.1 GB with): inside a test process it cannot be measured reliably, because glibc still
/// serves a large request from a free heap chunk left by earlier tests when one fits, whatever the threshold.
/// </summary>
public sealed class NativeAllocatorTests
{
    [Fact]
    public void The_threshold_takes_effect_on_linux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(NativeAllocator.ReleaseFreedMemoryPromptly());
            return;
        }

        Assert.True(NativeAllocator.ReleaseFreedMemoryPromptly());
        Assert.Equal(NativeAllocator.DefaultThresholdBytes, NativeAllocator.ThresholdBytes);
    }

    [Fact]
    public void A_threshold_below_a_page_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => NativeAllocator.ReleaseFreedMemoryPromptly(1024));
}
