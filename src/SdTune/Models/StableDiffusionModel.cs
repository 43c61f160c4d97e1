using System.Text.Json.Nodes;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Models;

/// <summary>
/// A whole Stable Diffusion model as loaded from a diffusers folder or a single-file checkpoint: UNet, VAE, text
/// encoder(s), tokenizer(s) and the scheduler config. Owns its modules; disposing it disposes them. Loading and saving
/// live with the file formats (<c>StableDiffusionModels.Load</c> in Checkpoints).
/// </summary>
public sealed class StableDiffusionModel : IDisposable
{
    /// <summary>Assembles a model from its parts; the model takes ownership of the modules.</summary>
    /// <param name="architecture">SD1, SD2 or SDXL base.</param>
    /// <param name="unet">The denoising UNet.</param>
    /// <param name="vae">The autoencoder.</param>
    /// <param name="textEncoder">The (first) text encoder: CLIP ViT-L for SD 1.x and SDXL, OpenCLIP ViT-H for SD 2.x.</param>
    /// <param name="tokenizer">The tokenizer of <paramref name="textEncoder"/>.</param>
    /// <param name="textEncoder2">SDXL only: OpenCLIP ViT-bigG with projection.</param>
    /// <param name="tokenizer2">SDXL only: the tokenizer of <paramref name="textEncoder2"/>.</param>
    /// <param name="schedulerConfig">The raw <c>scheduler_config.json</c>; a copy is kept, with <c>prediction_type</c> set to <paramref name="predictionType"/>.</param>
    /// <param name="predictionType">What the UNet predicts.</param>
    /// <param name="notes">What the loader wants the user to know (fallbacks, ignored tensors).</param>
    /// <exception cref="ArgumentException">The parts do not make a model of <paramref name="architecture"/>.</exception>
    public StableDiffusionModel(
        SdArchitecture architecture,
        UNet2DConditionModel unet,
        AutoencoderKL vae,
        ClipTextModel textEncoder,
        ClipTokenizer tokenizer,
        ClipTextModelWithProjection? textEncoder2,
        ClipTokenizer? tokenizer2,
        JsonObject schedulerConfig,
        PredictionType predictionType,
        IReadOnlyList<string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(schedulerConfig);
        if (architecture == SdArchitecture.SdxlRefiner)
        {
            throw new ArgumentException("SDXL refiner models are not supported.", nameof(architecture));
        }

        var xl = architecture == SdArchitecture.SdxlBase;
        if (xl != (textEncoder2 is not null) || xl != (tokenizer2 is not null))
        {
            throw new ArgumentException(xl
                ? "An SDXL model needs a second text encoder and tokenizer."
                : $"A {architecture} model has no second text encoder or tokenizer.");
        }

        if (xl != unet.Config.UsesTextTimeConditioning)
        {
            throw new ArgumentException(xl
                ? "An SDXL model needs a UNet with text_time added conditioning."
                : $"A {architecture} UNet has no text_time added conditioning.", nameof(unet));
        }

        Architecture = architecture;
        Unet = unet;
        Vae = vae;
        TextEncoder = textEncoder;
        Tokenizer = tokenizer;
        TextEncoder2 = textEncoder2;
        Tokenizer2 = tokenizer2;
        PredictionType = predictionType;
        SchedulerConfig = (JsonObject)schedulerConfig.DeepClone();
        SchedulerConfig["prediction_type"] = PredictionTypes.ToDiffusers(predictionType);
        Notes = notes ?? [];
    }

    /// <summary>Moves every component to <paramref name="device"/> (for example <c>cuda</c>); the tokenizers stay as they are.</summary>
    public void To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Unet.to(device);
        Vae.to(device);
        TextEncoder.to(device);
        TextEncoder2?.to(device);
    }

    /// <summary>The neural modules: the UNet, the VAE and the text encoder(s).</summary>
    public IEnumerable<nn.Module> Modules
    {
        get
        {
            yield return Unet;
            yield return Vae;
            yield return TextEncoder;
            if (TextEncoder2 is { } te2)
            {
                yield return te2;
            }
        }
    }

    /// <summary>The Stable Diffusion family.</summary>
    public SdArchitecture Architecture { get; }

    /// <summary>The denoising UNet.</summary>
    public UNet2DConditionModel Unet { get; }

    /// <summary>The autoencoder.</summary>
    public AutoencoderKL Vae { get; }

    /// <summary>The (first) text encoder: CLIP ViT-L for SD 1.x and SDXL, OpenCLIP ViT-H for SD 2.x.</summary>
    public ClipTextModel TextEncoder { get; }

    /// <summary>SDXL's second text encoder (OpenCLIP ViT-bigG with projection); null otherwise.</summary>
    public ClipTextModelWithProjection? TextEncoder2 { get; }

    /// <summary>The tokenizer of <see cref="TextEncoder"/> (SD 1.x and SDXL pad with the end token, SD 2.x with 0).</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>The tokenizer of <see cref="TextEncoder2"/> (pads with 0); null except for SDXL.</summary>
    public ClipTokenizer? Tokenizer2 { get; }

    /// <summary>What the UNet predicts.</summary>
    public PredictionType PredictionType { get; }

    /// <summary>The diffusers <c>scheduler_config.json</c> as read (or the family's default for single files), with
    /// <c>prediction_type</c> matching <see cref="PredictionType"/>. Schedulers are built from it.</summary>
    public JsonObject SchedulerConfig { get; }

    /// <summary>What the loader wants the user to know: fallbacks taken, tensors ignored.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// The image side the model was made for, which generation and training use when no size is given: the UNet's
    /// <c>sample_size</c> times the VAE's scale factor, as diffusers' pipelines default (512 for SD 1.5, 1024 for SDXL,
    /// 32 for the toy model); the VAE's own <c>sample_size</c> when the UNet config has none.
    /// </summary>
    public int DefaultImageSize => Unet.Config.SampleSize is { } latent ? latent * Vae.Config.DownsamplingFactor : Vae.Config.SampleSize;

    /// <summary>Disposes every module.</summary>
    public void Dispose()
    {
        Unet.Dispose();
        Vae.Dispose();
        TextEncoder.Dispose();
        TextEncoder2?.Dispose();
    }
}
