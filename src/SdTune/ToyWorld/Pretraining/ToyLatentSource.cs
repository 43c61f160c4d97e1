using SdTune.Models.Vae;
using SdTune.Training;
using SdTune.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// The pretraining latents: the frozen VAE's posterior mean of every training picture times its scaling factor,
/// encoded once and served by image path (no sampling, so the UNet's targets stay fixed, unlike
/// <see cref="VaeLatentSource"/>, which draws from the distribution).
/// </summary>
internal sealed class ToyLatentSource : ILatentSource, IDisposable
{
    private const int EncodeChunk = 256;
    private readonly Tensor latents;
    private readonly IReadOnlyDictionary<string, long> rows;

    /// <param name="vae">The frozen VAE.</param>
    /// <param name="images">(N, 3, S, S) pictures in [-1, 1].</param>
    /// <param name="rows">The row of <paramref name="images"/> of each image file (full paths).</param>
    public ToyLatentSource(AutoencoderKL vae, Tensor images, IReadOnlyDictionary<string, long> rows)
    {
        this.rows = rows;
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        using var scope = NewDisposeScope();
        for (long start = 0; start < images.shape[0]; start += EncodeChunk)
        {
            using var posterior = vae.Encode(images.narrow(0, start, Math.Min(EncodeChunk, images.shape[0] - start)));
            parts.Add(posterior.Mean * vae.Config.ScalingFactor);
        }

        latents = cat(parts, 0).MoveToOuterDisposeScope();
    }

    public Tensor GetLatents(TrainingBatch batch, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var indices = batch.Samples.Select(s => rows.TryGetValue(Path.GetFullPath(s.ImagePath), out var row)
            ? row
            : throw new InvalidOperationException($"{s.ImagePath}: not one of the pretraining pictures.")).ToArray();
        using var index = tensor(indices);
        return latents.index_select(0, index);
    }

    public void Dispose() => latents.Dispose();
}
