using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SdTune.Runtime;

/// <summary>
/// Direct access to the bytes of a contiguous CPU tensor, of any size (TorchSharp's <c>Tensor.bytes</c>
/// stops at 2 GB). Used to stream weights between files and tensors without intermediate copies.
/// </summary>
internal static partial class NativeTensorMemory
{
    /// <summary>Number of bytes the tensor's elements occupy.</summary>
    public static long ByteLength(Tensor tensor) => tensor.numel() * tensor.ElementSize;

    /// <summary>Address of the first element. The tensor must be contiguous and on the CPU.</summary>
    public static IntPtr DataPointer(Tensor tensor)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU)
        {
            throw new ArgumentException("Raw access needs a CPU tensor.", nameof(tensor));
        }

        if (!tensor.is_contiguous())
        {
            throw new ArgumentException("Raw access needs a contiguous tensor.", nameof(tensor));
        }

        return tensor.numel() == 0 ? IntPtr.Zero : THSTensor_data(tensor.Handle);
    }

    /// <summary>A span over <paramref name="length"/> bytes starting <paramref name="offset"/> bytes into the tensor.</summary>
    public static unsafe Span<byte> Bytes(Tensor tensor, long offset, int length)
    {
        var total = ByteLength(tensor);
        if (offset < 0 || length < 0 || offset + length > total)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range {offset}+{length} is outside a tensor of {total} bytes.");
        }

        return length == 0 ? Span<byte>.Empty : new Span<byte>((byte*)DataPointer(tensor) + offset, length);
    }

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr handle);
}
