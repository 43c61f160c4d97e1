namespace SdTune.Models.Clip;

/// <summary>The MLP activation of a CLIP text encoder (transformers' <c>hidden_act</c>).</summary>
public enum ClipActivation
{
    /// <summary><c>"quick_gelu"</c>: <c>x * sigmoid(1.702 x)</c> (OpenAI CLIP, e.g. CLIP ViT-L/14).</summary>
    QuickGelu,

    /// <summary><c>"gelu"</c>: exact GELU, <c>x * Φ(x)</c> with the erf form (OpenCLIP ViT-H and ViT-bigG).</summary>
    Gelu,
}
