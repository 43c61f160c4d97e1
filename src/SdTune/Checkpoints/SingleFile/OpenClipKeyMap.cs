using System.Globalization;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// OpenCLIP text tower (SD2 ViT-H under <c>cond_stage_model.model.</c>, SDXL ViT-bigG under
/// <c>conditioner.embedders.1.model.</c>) ↔ transformers <c>CLIPTextModel[WithProjection]</c> names. The fused
/// attention input projection <c>attn.in_proj_*</c> [3d, ...] holds q, k, v in rows 0:d, d:2d, 2d:3d;
/// <c>text_projection</c> is applied as <c>x @ P</c> in OpenCLIP and as a linear layer (<c>x @ W^T</c>) in transformers,
/// hence the transpose.
/// </summary>
internal static class OpenClipKeyMap
{
    public const string InProjWeight = "attn.in_proj_weight";
    public const string InProjBias = "attn.in_proj_bias";
    public const string TextProjection = "text_projection";
    public const string LogitScale = "logit_scale";
    public static readonly string[] QkvNames = ["q_proj", "k_proj", "v_proj"];

    private const string Resblocks = "transformer.resblocks.";
    private const string Layers = "text_model.encoder.layers.";

    private static readonly (string Original, string Hf)[] Fixed =
    [
        ("positional_embedding", "text_model.embeddings.position_embedding.weight"),
        ("token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
        ("ln_final.weight", "text_model.final_layer_norm.weight"),
        ("ln_final.bias", "text_model.final_layer_norm.bias"),
    ];

    private static readonly (string Original, string Hf)[] InLayer =
    [
        ("ln_1.weight", "layer_norm1.weight"), ("ln_1.bias", "layer_norm1.bias"),
        ("attn.out_proj.weight", "self_attn.out_proj.weight"), ("attn.out_proj.bias", "self_attn.out_proj.bias"),
        ("ln_2.weight", "layer_norm2.weight"), ("ln_2.bias", "layer_norm2.bias"),
        ("mlp.c_fc.weight", "mlp.fc1.weight"), ("mlp.c_fc.bias", "mlp.fc1.bias"),
        ("mlp.c_proj.weight", "mlp.fc2.weight"), ("mlp.c_proj.bias", "mlp.fc2.bias"),
    ];

    /// <summary>Parses <c>transformer.resblocks.N.rest</c>.</summary>
    public static bool TryParseLayer(string name, out int layer, out string rest) =>
        UnetLayout.TryParseIndex(name, Resblocks, out layer, out rest);

    /// <summary>Parses <c>text_model.encoder.layers.N.rest</c>.</summary>
    public static bool TryParseHfLayer(string name, out int layer, out string rest) =>
        UnetLayout.TryParseIndex(name, Layers, out layer, out rest);

    /// <summary>The HF name of a one-to-one renamed original name (below the prefix), or null.</summary>
    public static string? RenameToHf(string name)
    {
        foreach (var (original, hf) in Fixed)
        {
            if (name == original)
            {
                return hf;
            }
        }

        if (TryParseLayer(name, out var layer, out var rest))
        {
            foreach (var (original, hf) in InLayer)
            {
                if (rest == original)
                {
                    return Layers + I(layer) + "." + hf;
                }
            }
        }

        return null;
    }

    /// <summary>The original name (below the prefix) of a one-to-one renamed HF name, or null.</summary>
    public static string? RenameToOriginal(string name)
    {
        foreach (var (original, hf) in Fixed)
        {
            if (name == hf)
            {
                return original;
            }
        }

        if (TryParseHfLayer(name, out var layer, out var rest))
        {
            foreach (var (original, hf) in InLayer)
            {
                if (rest == hf)
                {
                    return Resblocks + I(layer) + "." + original;
                }
            }
        }

        return null;
    }

    /// <summary>HF name of the q, k or v projection of a layer; <paramref name="leaf"/> is weight or bias.</summary>
    public static string HfProjection(int layer, string projection, string leaf) => $"{Layers}{I(layer)}.self_attn.{projection}.{leaf}";

    /// <summary>Original name (below the prefix) of a layer's fused input projection.</summary>
    public static string OriginalInProj(int layer, string leaf) => $"{Resblocks}{I(layer)}.attn.in_proj_{leaf}";

    /// <summary>HF name prefix of a layer.</summary>
    public static string HfLayerPrefix(int layer) => $"{Layers}{I(layer)}.";

    /// <summary>Original name prefix (below the prefix) of a layer.</summary>
    public static string OriginalLayerPrefix(int layer) => $"{Resblocks}{I(layer)}.";

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
