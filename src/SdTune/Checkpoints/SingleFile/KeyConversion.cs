namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// One row of a conversion plan: how one target tensor is made from named source tensors. Computed from names and
/// shapes only; <see cref="KeyConversionExecutor"/> produces the tensor when it is needed.
/// </summary>
/// <param name="Component">
/// The model the diffusers-side name belongs to: the target model of an original-to-diffusers plan, the source model
/// of a diffusers-to-original plan (<see cref="SdComponent.Wrapper"/> for the original wrapper's buffers).
/// </param>
/// <param name="Sources">Names of the tensors read (several for <see cref="KeyConversionOp.ConcatRows"/>, none for
/// <see cref="KeyConversionOp.Generate"/>).</param>
/// <param name="SourceShapes">The shape of each source, in the order of <paramref name="Sources"/>.</param>
/// <param name="Target">Name of the produced tensor.</param>
/// <param name="TargetShape">Shape of the produced tensor.</param>
/// <param name="Op">How the target is computed.</param>
/// <param name="RowStart">First source row taken by <see cref="KeyConversionOp.SplitRows"/>; 0 otherwise.</param>
public sealed record KeyConversion(
    SdComponent Component,
    IReadOnlyList<string> Sources,
    IReadOnlyList<IReadOnlyList<long>> SourceShapes,
    string Target,
    IReadOnlyList<long> TargetShape,
    KeyConversionOp Op,
    long RowStart = 0)
{
    /// <summary>
    /// True for a non-persistent buffer (CLIP <c>text_model.embeddings.position_ids</c>): the target model may not
    /// have it, and a loader should then skip it instead of failing.
    /// </summary>
    public bool IsOptionalBuffer => Target.EndsWith("position_ids", StringComparison.Ordinal);

    /// <summary>A one-line description, e.g. <c>split rows 0:1280 of 3840</c>, for reports and error messages.</summary>
    public string Describe() => Op switch
    {
        KeyConversionOp.SplitRows => $"split rows {RowStart}:{RowStart + TargetShape[0]} of {SourceShapes[0][0]}",
        KeyConversionOp.ConvToLinear or KeyConversionOp.LinearToConv =>
            $"reshape [{string.Join(", ", SourceShapes[0])}] -> [{string.Join(", ", TargetShape)}]",
        _ => Op.ToString().ToLowerInvariant(),
    };
}
