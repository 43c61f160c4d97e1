using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.Checkpoints.SingleFile;
using SdTune.IO;
using SdTune.Models.Control;

namespace SdTune.Checkpoints.Control;

/// <summary>
/// The diffusers ControlNet config implied by the shapes of an original single-file ControlNet (names without the
/// <c>control_model.</c> prefix). Shapes tell everything but the attention head counts, which take the families'
/// values: 8 heads per block with a 768-wide text context (SD 1.x), otherwise 64-wide heads (SD 2.x, SDXL); and SDXL's
/// <c>addition_time_embed_dim</c>, derived assuming a 1280-wide pooled text embedding and six time ids. GroupNorm
/// groups cannot be seen in shapes either and take diffusers' default, 32 (every SD family).
/// </summary>
internal static class ControlNetConfigDerivation
{
    public static ControlNetConfig Derive(IReadOnlyDictionary<string, long[]> names, string source)
    {
        var shapes = new Dictionary<string, long[]>(names, StringComparer.Ordinal);
        long[] Shape(string name) => shapes.TryGetValue(name, out var s)
            ? s
            : throw new CheckpointFormatException(source, $"the ControlNet tensor '{name}' is missing, so its config cannot be derived");

        UnetLayout layout;
        int widthsCount;
        try
        {
            layout = UnetLayout.FromOriginal(shapes.Keys);
            widthsCount = ControlNetKeyMap.EmbeddingWidthsFromOriginal(shapes.Keys);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(source, e.Message);
        }

        if (!layout.MidAttention)
        {
            throw new CheckpointFormatException(source, "the ControlNet's middle block has no attention (no 'middle_block.2.*'); only UNetMidBlock2DCrossAttn is supported");
        }

        var l = layout.LayersPerBlock;
        var widths = Enumerable.Range(0, layout.Levels).Select(i => Shape($"input_blocks.{I((l + 1) * i + 1)}.0.out_layers.3.weight")[0]).ToArray();
        var depths = Enumerable.Range(0, layout.Levels)
            .Select(i => layout.DownAttention[i] ? SingleFileInspector.TransformerDepth(shapes, $"input_blocks.{I((l + 1) * i + 1)}.1.") : 1).ToArray();
        var key = shapes.Keys.FirstOrDefault(k => k.EndsWith(".attn2.to_k.weight", StringComparison.Ordinal))
            ?? throw new CheckpointFormatException(source, "the ControlNet has no cross-attention ('*.attn2.to_k.weight'), so it is no Stable Diffusion ControlNet");
        var context = Shape(key)[1];
        var projIn = Shape(shapes.Keys.First(k => k.EndsWith(".proj_in.weight", StringComparison.Ordinal)));
        if (context != 768 && widths.Any(w => w % 64 != 0))
        {
            throw new CheckpointFormatException(source, $"the attention head counts cannot be derived: the widths [{string.Join(", ", widths)}] are not multiples of the 64-wide heads of SD 2.x/SDXL, and the {context}-wide text context is not SD 1.x's 768");
        }

        var hint = Enumerable.Range(0, widthsCount).Select(k => Shape($"input_hint_block.{I(k == 0 ? 0 : 4 * k)}.weight")[0]).ToArray();
        var json = new JsonObject
        {
            ["in_channels"] = Shape("input_blocks.0.0.weight")[1],
            ["conditioning_channels"] = Shape("input_hint_block.0.weight")[1],
            ["conditioning_embedding_out_channels"] = Numbers(hint),
            ["down_block_types"] = new JsonArray([.. layout.DownAttention.Select(a => (JsonNode?)JsonValue.Create(a ? "CrossAttnDownBlock2D" : "DownBlock2D"))]),
            ["block_out_channels"] = Numbers(widths),
            ["layers_per_block"] = l,
            ["cross_attention_dim"] = context,
            ["attention_head_dim"] = context == 768 ? 8 : Numbers(widths.Select(w => w / 64)),
            ["transformer_layers_per_block"] = Numbers(depths.Select(d => (long)d)),
            ["use_linear_projection"] = projIn.Length == 2,
        };
        if (shapes.TryGetValue("label_emb.0.0.weight", out var adm))
        {
            if (adm[1] <= 1280 || (adm[1] - 1280) % 6 != 0)
            {
                throw new CheckpointFormatException(source, $"label_emb takes {adm[1]} features, which is not a 1280-wide pooled text embedding plus six embedded time ids, so addition_time_embed_dim cannot be derived");
            }

            json["addition_embed_type"] = "text_time";
            json["addition_time_embed_dim"] = (adm[1] - 1280) / 6;
            json["projection_class_embeddings_input_dim"] = adm[1];
        }

        return ControlNetConfig.Parse(json.ToJsonString(), source + " (derived ControlNet config)");
    }

    private static JsonArray Numbers(IEnumerable<long> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
