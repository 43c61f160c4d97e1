using System.Text.RegularExpressions;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// CLIP ViT-L text encoder: the original files embed a transformers <c>CLIPTextModel</c>, so only the prefix changes.
/// Files written by transformers before the <c>text_model</c> wrapper existed lack that level; it is added.
/// </summary>
internal static partial class ClipTextKeyMap
{
    public const string TextModel = "text_model.";

    /// <summary>The HF name of a name below the original prefix, or null when it is no CLIP text-model tensor.</summary>
    public static string? ToDiffusers(string rest)
    {
        var name = rest.StartsWith(TextModel, StringComparison.Ordinal) ? rest : TextModel + rest;
        return IsTextModelName(name) ? name : null;
    }

    /// <summary>The name below the original prefix (always the <c>text_model.</c> layout), or null.</summary>
    public static string? ToOriginal(string name) => IsTextModelName(name) ? name : null;

    public static bool IsTextModelName(string name) => HfName().IsMatch(name);

    [GeneratedRegex(
        @"^text_model\.(embeddings\.(token_embedding\.weight|position_embedding\.weight|position_ids)|encoder\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|out_proj)|layer_norm1|layer_norm2|mlp\.fc1|mlp\.fc2)\.(weight|bias)|final_layer_norm\.(weight|bias))$",
        RegexOptions.CultureInvariant)]
    private static partial Regex HfName();
}
