using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>
/// SDXL's extra conditioning (<c>addition_embed_type = "text_time"</c>): the pooled text embedding of the second
/// text encoder and the six "time ids" (original height, width, crop top, crop left, target height, width).
/// </summary>
/// <param name="TextEmbeds">Pooled text embeddings, (B, 1280) for SDXL base.</param>
/// <param name="TimeIds">(B, 6) size/crop conditioning; each value is embedded sinusoidally.</param>
public sealed record UNetAddedConditions(Tensor TextEmbeds, Tensor TimeIds);
