using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>A torch storage class named in a checkpoint (<c>torch.FloatStorage</c>, ...) and the tensor dtype it holds.</summary>
internal sealed record TorchStorageType(string Name, torch.ScalarType DType, int ElementSize)
{
    private static readonly TorchStorageType[] Known =
    [
        new("FloatStorage", torch.ScalarType.Float32, 4),
        new("HalfStorage", torch.ScalarType.Float16, 2),
        new("BFloat16Storage", torch.ScalarType.BFloat16, 2),
        new("DoubleStorage", torch.ScalarType.Float64, 8),
        new("LongStorage", torch.ScalarType.Int64, 8),
        new("IntStorage", torch.ScalarType.Int32, 4),
        new("ShortStorage", torch.ScalarType.Int16, 2),
        new("CharStorage", torch.ScalarType.Int8, 1),
        new("ByteStorage", torch.ScalarType.Byte, 1),
        new("BoolStorage", torch.ScalarType.Bool, 1),
        new("ComplexFloatStorage", torch.ScalarType.ComplexFloat32, 8),
        new("ComplexDoubleStorage", torch.ScalarType.ComplexFloat64, 16),
        // Untyped storages are pickled as bytes; tensors over them are uint8 (what torch.load does too).
        new("UntypedStorage", torch.ScalarType.Byte, 1),
    ];

    /// <summary>The storage class for a <c>torch.&lt;name&gt;</c> global, or null when it is not one we read.</summary>
    public static TorchStorageType? FromGlobalName(string name) => Array.Find(Known, k => k.Name == name);

    /// <summary>The storage class that <c>torch.save</c> names for tensors of a dtype.</summary>
    public static TorchStorageType FromDType(torch.ScalarType dtype) =>
        Array.Find(Known, k => k.DType == dtype && k.Name != "UntypedStorage")
        ?? throw new NotSupportedException($"Tensors of dtype {dtype} cannot be written to a torch checkpoint.");
}
