using System.Globalization;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// Original ControlNet (<c>cldm.ControlNet</c>, as A1111 and ComfyUI load it) ↔ diffusers <c>ControlNetModel</c> names.
/// The UNet half has the UNet's own names (<see cref="UnetKeyMap.AddEncoder"/>); added are the hint encoder
/// <c>input_hint_block</c> (a sequence of convolutions with SiLU between them, so the convolutions sit at even indices:
/// 0 is <c>conv_in</c>, 2k + 2 is <c>blocks.k</c>, the last is <c>conv_out</c>), the zero convolutions
/// <c>zero_convs.N.0</c> ↔ <c>controlnet_down_blocks.N</c>, and <c>middle_block_out.0</c> ↔ <c>controlnet_mid_block</c>.
/// Files may carry every name under <see cref="Prefix"/>.
/// </summary>
internal static class ControlNetKeyMap
{
    /// <summary>The optional top-level prefix of original ControlNet files (the <c>control_model</c> of <c>ControlLDM</c>).</summary>
    public const string Prefix = "control_model.";

    private const string HintBlock = "input_hint_block.";
    private const string CondEmbeddingBlocks = "controlnet_cond_embedding.blocks.";

    /// <summary>The name table of a ControlNet with this UNet layout and <paramref name="embeddingWidths"/> conditioning embedding widths.</summary>
    public static BlockTable Build(UnetLayout layout, int embeddingWidths)
    {
        var t = new BlockTable();
        UnetKeyMap.AddEncoder(t, layout);
        var convolutions = 2 * embeddingWidths;
        t.Add(HintBlock + "0", "controlnet_cond_embedding.conv_in", SubNames.Leaf);
        for (var k = 0; k < convolutions - 2; k++)
        {
            t.Add(HintBlock + I(2 * (k + 1)), CondEmbeddingBlocks + I(k), SubNames.Leaf);
        }

        t.Add(HintBlock + I(2 * (convolutions - 1)), "controlnet_cond_embedding.conv_out", SubNames.Leaf);
        var skips = 1 + (layout.Levels * layout.LayersPerBlock) + (layout.Levels - 1);
        for (var i = 0; i < skips; i++)
        {
            t.Add($"zero_convs.{I(i)}.0", $"controlnet_down_blocks.{I(i)}", SubNames.Leaf);
        }

        t.Add("middle_block_out.0", "controlnet_mid_block", SubNames.Leaf);
        return t;
    }

    /// <summary>How many widths the conditioning embedding has, from original names (prefix removed): half the hint convolutions.</summary>
    public static int EmbeddingWidthsFromOriginal(IEnumerable<string> names)
    {
        var last = names.Select(n => UnetLayout.TryParseIndex(n, HintBlock, out var index, out _) ? index : -1).DefaultIfEmpty(-1).Max();
        if (last < 2 || last % 4 != 2)
        {
            throw new InvalidDataException($"the hint encoder's last convolution is {HintBlock}{I(last)}; a ControlNet's sits at 4n - 2 for n widths (14 for the usual 16, 32, 96, 256)");
        }

        return (last + 2) / 4;
    }

    /// <summary>How many widths the conditioning embedding has, from diffusers names: one more than half its blocks.</summary>
    public static int EmbeddingWidthsFromDiffusers(IEnumerable<string> names) =>
        (names.Select(n => UnetLayout.TryParseIndex(n, CondEmbeddingBlocks, out var index, out _) ? index + 1 : 0).DefaultIfEmpty(0).Max() / 2) + 1;

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
