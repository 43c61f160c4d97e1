using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.Pipelines;

/// <summary>One generated image with the settings that reproduce it.</summary>
/// <param name="Image">The image (owned by the result).</param>
/// <param name="Seed">Its seed (the request's seed + its index).</param>
/// <param name="Infotext">A1111's generation parameters, written into the PNG.</param>
public sealed record GeneratedImage(SKBitmap Image, long Seed, GenerationInfotext Infotext);

/// <summary>The images of one request, plus where the time went.</summary>
public sealed class GenerationResult : IDisposable
{
    /// <summary>Creates a result.</summary>
    public GenerationResult(IReadOnlyList<GeneratedImage> images, IReadOnlyList<string> warnings, TimeSpan total, TimeSpan sampling, TimeSpan unet, int unetCalls)
    {
        Sampling = sampling;
        Images = images;
        Warnings = warnings;
        Total = total;
        Unet = unet;
        UnetCalls = unetCalls;
    }

    /// <summary>The images, in batch order.</summary>
    public IReadOnlyList<GeneratedImage> Images { get; }

    /// <summary>Things the user should know (skipped embeddings, LoRA keys that matched nothing, unsupported tags).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Wall time of the whole request.</summary>
    public TimeSpan Total { get; }

    /// <summary>Wall time of the sampling loop alone (no text encoding, no VAE).</summary>
    public TimeSpan Sampling { get; }

    /// <summary>Time spent inside UNet forward passes.</summary>
    public TimeSpan Unet { get; }

    /// <summary>Number of UNet forward passes.</summary>
    public int UnetCalls { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var image in Images)
        {
            image.Image.Dispose();
        }
    }
}
