using System.Runtime.InteropServices;

namespace SdTune.Imaging;

/// <summary>Views RGBA byte buffers as one 32-bit value per pixel, to move whole pixels at once.</summary>
internal static class MemoryMarshalHelpers
{
    public static ReadOnlySpan<uint> AsUInts(ReadOnlySpan<byte> bytes) => MemoryMarshal.Cast<byte, uint>(bytes);

    public static Span<uint> AsUInts(Span<byte> bytes) => MemoryMarshal.Cast<byte, uint>(bytes);
}
