namespace SdTune.Checkpoints.Safetensors;

/// <summary>Name, element type and shape of one tensor to be written: what a safetensors header needs before any data.</summary>
/// <param name="Name">The tensor's name; unique within a file.</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">The dimensions.</param>
public sealed record SafetensorsTensorLayout(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)
{
    /// <summary>Bytes the tensor's data takes in the file.</summary>
    public long ByteLength => Shape.Aggregate(1L, (a, b) => checked(a * b)) * DType.ElementSize();
}
