namespace SdTune.Checkpoints.Safetensors;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor's name (state-dict key).</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions; empty for a 0-d tensor.</param>
/// <param name="Begin">Start of the data, relative to the end of the header.</param>
/// <param name="End">End of the data (exclusive), relative to the end of the header.</param>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Number of data bytes.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Number of elements (1 for a 0-d tensor).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape as an array, the form torch calls take.</summary>
    public long[] ShapeArray => [.. Shape];
}
