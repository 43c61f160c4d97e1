using System.Globalization;
using System.Text.RegularExpressions;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// Original (ldm/sgm <c>openaimodel.UNetModel</c>) ↔ diffusers <c>UNet2DConditionModel</c> names, by block index
/// arithmetic: with L resnets per down level, input block (L+1)i+j+1 is down level i, resnet j; the downsampler of
/// level i is input block (L+1)(i+1); output block (L+1)i+j is up level i, resnet j (L+1 resnets per up level); the
/// upsampler sits after the resnet (and the attention, where the level has one) of output block (L+1)i+L.
/// </summary>
internal static class UnetKeyMap
{
    private static readonly SubNames Resnet = new RenamedSubNames(
    [
        ("in_layers.0", "norm1"), ("in_layers.2", "conv1"), ("emb_layers.1", "time_emb_proj"),
        ("out_layers.0", "norm2"), ("out_layers.3", "conv2"), ("skip_connection", "conv_shortcut"),
    ]);

    // Spatial transformer internals have the same names in both layouts.
    private static readonly SubNames Transformer = new IdenticalSubNames(new Regex(
        @"^(norm|proj_in|proj_out|transformer_blocks\.\d+\.(norm[123]|attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.0\.proj|ff\.net\.2))\.(weight|bias)$",
        RegexOptions.CultureInvariant));

    public static BlockTable Build(UnetLayout layout)
    {
        var t = new BlockTable();
        AddEncoder(t, layout);
        AddDecoder(t, layout);
        return t;
    }

    /// <summary>
    /// Adds the contracting half: time and SDXL label embeddings, <c>conv_in</c>, input blocks, middle block. A ControlNet
    /// has exactly these, under the same names as the UNet.
    /// </summary>
    public static void AddEncoder(BlockTable t, UnetLayout layout)
    {
        var l = layout.LayersPerBlock;
        t.Add("time_embed.0", "time_embedding.linear_1", SubNames.Leaf);
        t.Add("time_embed.2", "time_embedding.linear_2", SubNames.Leaf);
        t.Add("label_emb.0.0", "add_embedding.linear_1", SubNames.Leaf);
        t.Add("label_emb.0.2", "add_embedding.linear_2", SubNames.Leaf);
        t.Add("input_blocks.0.0", "conv_in", SubNames.Leaf);
        for (var i = 0; i < layout.Levels; i++)
        {
            for (var j = 0; j < l; j++)
            {
                var k = (l + 1) * i + j + 1;
                t.Add(Block("input_blocks", k, 0), $"down_blocks.{I(i)}.resnets.{I(j)}", Resnet);
                if (layout.DownAttention[i])
                {
                    t.Add(Block("input_blocks", k, 1), $"down_blocks.{I(i)}.attentions.{I(j)}", Transformer);
                }
            }

            if (i < layout.Levels - 1)
            {
                t.Add(Block("input_blocks", (l + 1) * (i + 1), 0) + ".op", $"down_blocks.{I(i)}.downsamplers.0.conv", SubNames.Leaf);
            }
        }

        t.Add("middle_block.0", "mid_block.resnets.0", Resnet);
        if (layout.MidAttention)
        {
            t.Add("middle_block.1", "mid_block.attentions.0", Transformer);
            t.Add("middle_block.2", "mid_block.resnets.1", Resnet);
        }
        else
        {
            t.Add("middle_block.1", "mid_block.resnets.1", Resnet);
        }
    }

    private static void AddDecoder(BlockTable t, UnetLayout layout)
    {
        var l = layout.LayersPerBlock;

        for (var i = 0; i < layout.Levels; i++)
        {
            for (var j = 0; j <= l; j++)
            {
                var k = (l + 1) * i + j;
                t.Add(Block("output_blocks", k, 0), $"up_blocks.{I(i)}.resnets.{I(j)}", Resnet);
                if (layout.UpAttention[i])
                {
                    t.Add(Block("output_blocks", k, 1), $"up_blocks.{I(i)}.attentions.{I(j)}", Transformer);
                }
            }

            if (i < layout.Levels - 1)
            {
                var upsampler = Block("output_blocks", (l + 1) * i + l, layout.UpAttention[i] ? 2 : 1) + ".conv";
                t.Add(upsampler, $"up_blocks.{I(i)}.upsamplers.0.conv", SubNames.Leaf);
            }
        }

        t.Add("out.0", "conv_norm_out", SubNames.Leaf);
        t.Add("out.2", "conv_out", SubNames.Leaf);
    }

    private static string Block(string kind, int block, int layer) => $"{kind}.{I(block)}.{I(layer)}";

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
