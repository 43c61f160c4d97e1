namespace SdTune.Checkpoints.Inspection;

/// <summary>Name, type and shape of one stored tensor — everything inspection needs, without its data.</summary>
/// <param name="Name">The state-dict key.</param>
/// <param name="DType">The element type as the file spells it (for example F16 or BF16).</param>
/// <param name="Shape">The dimensions.</param>
public sealed record TensorEntry(string Name, string DType, IReadOnlyList<long> Shape)
{
    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
