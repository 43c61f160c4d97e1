namespace SdTune.Checkpoints.SingleFile;

/// <summary>How a target tensor is made from its source tensor(s).</summary>
public enum KeyConversionOp
{
    /// <summary>Same values and shape under a new name.</summary>
    Rename,

    /// <summary>Rows <c>[RowStart, RowStart + TargetShape[0])</c> of a fused tensor (OpenCLIP <c>in_proj</c> into q, k or v).</summary>
    SplitRows,

    /// <summary>The sources stacked along dimension 0 in order (q, k, v back into OpenCLIP <c>in_proj</c>).</summary>
    ConcatRows,

    /// <summary>The 2-D source transposed (OpenCLIP <c>text_projection</c> [d, p] and the linear weight [p, d]).</summary>
    Transpose,

    /// <summary>A 1x1 convolution weight [C, C, 1, 1] viewed as a linear weight [C, C] (VAE mid-block attention).</summary>
    ConvToLinear,

    /// <summary>A linear weight [C, C] viewed as a 1x1 convolution weight [C, C, 1, 1] (VAE mid-block attention).</summary>
    LinearToConv,

    /// <summary>No source: the value is computed (noise-schedule buffers, CLIP <c>position_ids</c>, placeholders).</summary>
    Generate,
}
