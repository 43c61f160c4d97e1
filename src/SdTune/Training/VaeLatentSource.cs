using SdTune.Models.Vae;
using SdTune.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// Loads a batch's images with an <see cref="IImageReader"/> (resize, crop, flip as the sample says) and encodes them with
/// the frozen VAE: a draw from the latent distribution times the scaling factor (minus the shift factor first, where the
/// VAE has one), as sd-scripts and diffusers do.
/// </summary>
public sealed class VaeLatentSource : ILatentSource
{
    private readonly AutoencoderKL vae;
    private readonly IImageReader reader;

    /// <summary>Creates the source.</summary>
    /// <param name="vae">The frozen VAE (its dtype and device decide the image tensors').</param>
    /// <param name="reader">Reads the image files.</param>
    public VaeLatentSource(AutoencoderKL vae, IImageReader reader)
    {
        this.vae = vae ?? throw new ArgumentNullException(nameof(vae));
        this.reader = reader ?? throw new ArgumentNullException(nameof(reader));
    }

    /// <inheritdoc />
    public Tensor GetLatents(TrainingBatch batch, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var first = vae.parameters().First();
        var images = stack(batch.Samples.Select(s => s.LoadImage(reader)).ToArray()).to(first.dtype, first.device);
        using var distribution = vae.Encode(images);
        var latents = distribution.Sample(generator).to(ScalarType.Float32);
        if (vae.Config.ShiftFactor is { } shift)
        {
            latents = latents - shift;
        }

        return (latents * vae.Config.ScalingFactor).MoveToOuterDisposeScope();
    }
}
