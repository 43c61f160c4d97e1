using SdTune.Models;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>What <see cref="SingleFileInspector.Detect(IReadOnlyDictionary{string, long[]}, IReadOnlyDictionary{string, string}?, string)"/>
/// found in an original single-file checkpoint.</summary>
/// <param name="Architecture">The Stable Diffusion family.</param>
/// <param name="UnetInChannels">UNet input channels: 4 for text-to-image, 9 for inpainting (latent + mask + masked image).</param>
/// <param name="CrossAttentionDim">The UNet's cross-attention (text context) width.</param>
/// <param name="Prediction">Epsilon or v-prediction, or unknown (SD 2.x without a hint).</param>
/// <param name="PredictionSource">Where <paramref name="Prediction"/> comes from (a metadata key, a marker tensor, or the family default).</param>
/// <param name="Components">The diffusers models the file holds (the UNet always; VAE and text encoders when present).</param>
/// <param name="HasEmaWeights">The file also carries ldm EMA copies (<c>model_ema.*</c>); they are not converted.</param>
/// <param name="UnsupportedReason">Null when the file can be converted; otherwise why not.</param>
public sealed record SingleFileDetection(
    SdArchitecture Architecture,
    int UnetInChannels,
    int CrossAttentionDim,
    PredictionType? Prediction,
    string PredictionSource,
    IReadOnlyList<SdComponent> Components,
    bool HasEmaWeights,
    string? UnsupportedReason)
{
    /// <summary>True for an inpainting UNet (9 input channels).</summary>
    public bool IsInpainting => UnetInChannels == 9;

    /// <summary>True when the file can be converted.</summary>
    public bool IsSupported => UnsupportedReason is null;

    /// <summary>True when the file holds <paramref name="component"/>.</summary>
    public bool Has(SdComponent component) => Components.Contains(component);

    /// <summary>One line for logs: family, variant, prediction and components.</summary>
    public string Describe()
    {
        var variant = UnetInChannels switch { 4 => "", 9 => " inpainting", _ => $" ({UnetInChannels} input channels)" };
        var support = IsSupported ? "" : $" [unsupported: {UnsupportedReason}]";
        return $"{Architecture}{variant}, prediction {Prediction} ({PredictionSource}), components {string.Join(", ", Components)}" +
            (HasEmaWeights ? ", EMA copies present" : "") + support;
    }
}
