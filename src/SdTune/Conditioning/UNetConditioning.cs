using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Conditioning;

/// <summary>What the UNet is conditioned on: the cross-attention context and, for SDXL, the pooled embedding and time ids.</summary>
/// <param name="Context">(B, tokens, context width).</param>
/// <param name="Added">SDXL's added conditions; null for SD 1.x/2.x.</param>
public sealed record UNetConditioning(Tensor Context, UNetAddedConditions? Added);
