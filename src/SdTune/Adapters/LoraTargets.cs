using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>The models a LoRA network adapts; any of them may be absent (a UNet-only LoRA).</summary>
/// <param name="Unet">The UNet.</param>
/// <param name="TextEncoder">The (first) text encoder.</param>
/// <param name="TextEncoder2">SDXL's second text encoder.</param>
public sealed record LoraTargets(UNet2DConditionModel? Unet, ClipTextEncoder? TextEncoder, ClipTextEncoder? TextEncoder2 = null)
{
    /// <summary>
    /// The model family, which decides the kohya name prefixes and layout: SDXL when there is a second text encoder or
    /// the UNet uses SDXL's added conditioning, SD 2.x when the cross-attention (or text) width is 1024, else SD 1.x.
    /// </summary>
    public SdArchitecture Architecture
    {
        get
        {
            if (TextEncoder2 is not null || Unet?.Config.UsesTextTimeConditioning == true)
            {
                return SdArchitecture.SdxlBase;
            }

            var width = Unet?.Config.CrossAttentionDim[0] ?? TextEncoder?.Config.HiddenSize ?? 768;
            return width == 1024 ? SdArchitecture.SD2 : SdArchitecture.SD1;
        }
    }

    /// <summary>The model of a component, or null when absent.</summary>
    public nn.Module? Get(LoraComponent component) => component switch
    {
        LoraComponent.Unet => Unet,
        LoraComponent.TextEncoder => TextEncoder,
        LoraComponent.TextEncoder2 => TextEncoder2,
        _ => null,
    };

    /// <summary>The components present, text encoders first (kohya's order).</summary>
    public IEnumerable<LoraComponent> Present =>
        new[] { LoraComponent.TextEncoder, LoraComponent.TextEncoder2, LoraComponent.Unet }.Where(c => Get(c) is not null);
}
