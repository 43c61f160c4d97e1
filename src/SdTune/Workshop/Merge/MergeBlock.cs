using System.Globalization;

namespace SdTune.Workshop.Merge;

/// <summary>Where a UNet block sits: the input (down) side, the middle block or the output (up) side.</summary>
public enum MergeBlockSide
{
    /// <summary><c>input_blocks.N</c>: IN00, IN01, ...</summary>
    Input,

    /// <summary><c>middle_block</c>: M00.</summary>
    Middle,

    /// <summary><c>output_blocks.N</c>: OUT00, OUT01, ...</summary>
    Output,
}

/// <summary>One numbered block of the original UNet layout, named as the block-weight tools name it (IN04, M00, OUT11).</summary>
/// <param name="Side">Input, middle or output.</param>
/// <param name="Index">The block's number on its side (0 for the middle block).</param>
public readonly record struct MergeBlock(MergeBlockSide Side, int Index)
{
    /// <summary>IN00–IN11, M00, OUT00–OUT11 (SD 1.x/2.x); IN00–IN08, M00, OUT00–OUT08 (SDXL).</summary>
    public string Name => Side switch
    {
        MergeBlockSide.Input => "IN" + Index.ToString("00", CultureInfo.InvariantCulture),
        MergeBlockSide.Middle => "M00",
        _ => "OUT" + Index.ToString("00", CultureInfo.InvariantCulture),
    };

    /// <inheritdoc />
    public override string ToString() => Name;
}
