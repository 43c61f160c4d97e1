using System.Runtime.InteropServices;

namespace SdTune.Runtime;

/// <summary>
/// Tuning of the C allocator that holds tensor memory on the CPU. glibc's malloc serves blocks below a threshold from
/// its heaps and raises that threshold (up to 32 MB) each time a larger block is freed; a training step's activations
/// (megabytes each, of many sizes, freed in a different order than allocated) then fragment the heaps, and freed memory
/// stays resident: an SDXL LoRA step at 1024 px peaked several GB above its live tensors. With a fixed, low threshold
/// every large block is mapped on its own and unmapped when freed, so the resident size follows the live tensors, at the
/// price of fresh page faults for each large allocation (slower steps).
/// </summary>
public static partial class NativeAllocator
{
    /// <summary>The block size from which blocks are mapped on their own: 256 KB.</summary>
    public const int DefaultThresholdBytes = 256 * 1024;

    private const int MmapThresholdParameter = -3;

    private static int current;

    /// <summary>The threshold set by <see cref="ReleaseFreedMemoryPromptly"/> in this process; 0 when never set.</summary>
    public static int ThresholdBytes => current;

    /// <summary>
    /// Makes blocks of <paramref name="thresholdBytes"/> or more go back to the operating system as soon as they are freed
    /// (glibc <c>mallopt(M_MMAP_THRESHOLD)</c>). Process-wide and permanent for the process. Does nothing on other
    /// platforms or C libraries.
    /// </summary>
    /// <param name="thresholdBytes">The block size from which blocks are mapped on their own.</param>
    /// <returns>Whether the setting took effect.</returns>
    public static bool ReleaseFreedMemoryPromptly(int thresholdBytes = DefaultThresholdBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(thresholdBytes, 4096);
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            if (mallopt(MmapThresholdParameter, thresholdBytes) != 1)
            {
                return false;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }

        current = thresholdBytes;
        return true;
    }

    [LibraryImport("libc.so.6")]
    private static partial int mallopt(int parameter, int value);
}
