using System.Globalization;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// Original (ldm <c>AutoencoderKL</c>) ↔ diffusers <c>AutoencoderKL</c> names. The decoder's up path is stored in
/// reverse: original <c>decoder.up.{N-1-i}</c> is diffusers <c>decoder.up_blocks.{i}</c>. The mid-block attention
/// projections are 1x1 convolutions in the original and linear layers in diffusers.
/// </summary>
internal static class VaeKeyMap
{
    private static readonly SubNames Resnet = new RenamedSubNames(
        [("norm1", "norm1"), ("conv1", "conv1"), ("norm2", "norm2"), ("conv2", "conv2"), ("nin_shortcut", "conv_shortcut")]);

    private static readonly SubNames Attention = new RenamedSubNames(
        [("norm", "group_norm"), ("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("proj_out", "to_out.0")]);

    /// <summary>Levels and resnets per level of encoder and decoder.</summary>
    internal sealed record Layout(int Levels, int EncoderResnets, int DecoderResnets);

    /// <summary>Reads the layout from original names (prefix <c>first_stage_model.</c> removed).</summary>
    public static Layout LayoutFromOriginal(IReadOnlyCollection<string> names) =>
        ReadLayout(names, "encoder.down.", ".block.", "decoder.up.", ".block.");

    /// <summary>Reads the layout from diffusers names.</summary>
    public static Layout LayoutFromDiffusers(IReadOnlyCollection<string> names) =>
        ReadLayout(names, "encoder.down_blocks.", ".resnets.", "decoder.up_blocks.", ".resnets.");

    public static BlockTable Build(Layout layout)
    {
        var t = new BlockTable();
        foreach (var same in new[] { "encoder.conv_in", "encoder.conv_out", "decoder.conv_in", "decoder.conv_out", "quant_conv", "post_quant_conv" })
        {
            t.Add(same, same, SubNames.Leaf);
        }

        foreach (var part in new[] { "encoder", "decoder" })
        {
            t.Add(part + ".norm_out", part + ".conv_norm_out", SubNames.Leaf);
            t.Add(part + ".mid.block_1", part + ".mid_block.resnets.0", Resnet);
            t.Add(part + ".mid.block_2", part + ".mid_block.resnets.1", Resnet);
            t.Add(part + ".mid.attn_1", part + ".mid_block.attentions.0", Attention);
        }

        var n = layout.Levels;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < layout.EncoderResnets; j++)
            {
                t.Add($"encoder.down.{I(i)}.block.{I(j)}", $"encoder.down_blocks.{I(i)}.resnets.{I(j)}", Resnet);
            }

            for (var j = 0; j < layout.DecoderResnets; j++)
            {
                t.Add($"decoder.up.{I(n - 1 - i)}.block.{I(j)}", $"decoder.up_blocks.{I(i)}.resnets.{I(j)}", Resnet);
            }

            if (i < n - 1)
            {
                t.Add($"encoder.down.{I(i)}.downsample.conv", $"encoder.down_blocks.{I(i)}.downsamplers.0.conv", SubNames.Leaf);
                t.Add($"decoder.up.{I(n - 1 - i)}.upsample.conv", $"decoder.up_blocks.{I(i)}.upsamplers.0.conv", SubNames.Leaf);
            }
        }

        return t;
    }

    /// <summary>True for a mid-block attention projection weight, stored as a 1x1 convolution in the original.</summary>
    public static bool IsAttentionProjectionWeight(string diffusersName) =>
        diffusersName.Contains(".mid_block.attentions.0.to_", StringComparison.Ordinal) && diffusersName.EndsWith(".weight", StringComparison.Ordinal);

    private static Layout ReadLayout(IReadOnlyCollection<string> names, string encoderPrefix, string encoderResnet, string decoderPrefix, string decoderResnet)
    {
        int levels = 0, encoderResnets = 0, decoderResnets = 0;
        foreach (var name in names)
        {
            if (UnetLayout.TryParseIndex(name, encoderPrefix, out var i, out var rest))
            {
                levels = Math.Max(levels, i + 1);
                if (UnetLayout.TryParseIndex("." + rest, encoderResnet, out var j, out _))
                {
                    encoderResnets = Math.Max(encoderResnets, j + 1);
                }
            }
            else if (UnetLayout.TryParseIndex(name, decoderPrefix, out _, out var decoderRest)
                && UnetLayout.TryParseIndex("." + decoderRest, decoderResnet, out var d, out _))
            {
                decoderResnets = Math.Max(decoderResnets, d + 1);
            }
        }

        if (levels == 0 || encoderResnets == 0)
        {
            throw new InvalidDataException($"the VAE has no {encoderPrefix}N{encoderResnet}M tensors, so its block structure is unknown");
        }

        return new Layout(levels, encoderResnets, decoderResnets);
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
