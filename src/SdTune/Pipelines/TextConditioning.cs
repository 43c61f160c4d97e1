using static TorchSharp.torch;

namespace SdTune.Pipelines;

/// <summary>The UNet conditioning of one prompt text: the context sequence and, for SDXL, the pooled embedding.</summary>
/// <param name="Context">[1, 77·chunks, context width].</param>
/// <param name="Pooled">SDXL: [1, 1280] pooled text embedding of the first chunk; null otherwise.</param>
public sealed record TextConditioning(Tensor Context, Tensor? Pooled) : IDisposable
{
    /// <summary>Number of 77-token chunks in <see cref="Context"/>.</summary>
    public int ChunkCount => (int)(Context.shape[1] / 77);

    /// <inheritdoc />
    public void Dispose()
    {
        Context.Dispose();
        Pooled?.Dispose();
    }
}
