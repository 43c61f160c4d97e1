using SdTune.IO;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>
/// Loads a diffusers component (UNet, VAE, CLIP text encoder) from one safetensors file stored under its reference
/// names. The model classes know no file format; loading lives here, with the format.
/// </summary>
public static class SafetensorsModelWeights
{
    /// <summary>Loads diffusers-named weights, strictly: every model tensor must be in the file and nothing else may be.</summary>
    /// <param name="unet">The UNet whose parameters are overwritten.</param>
    /// <param name="file">A diffusers UNet checkpoint (<c>diffusion_pytorch_model.safetensors</c>).</param>
    /// <exception cref="CheckpointFormatException">Missing, unexpected or mis-shaped tensors; the message lists them.</exception>
    public static WeightLoadReport LoadWeights(this UNet2DConditionModel unet, SafetensorsFile file) => ModuleWeights.Load(unet, file);

    /// <summary>Loads diffusers-named weights, strictly: every model tensor must be in the file and nothing else may be.</summary>
    /// <param name="vae">The autoencoder whose parameters are overwritten.</param>
    /// <param name="file">A diffusers VAE checkpoint (<c>diffusion_pytorch_model.safetensors</c>).</param>
    /// <exception cref="CheckpointFormatException">Missing, unexpected or mis-shaped tensors; the message lists them.</exception>
    public static WeightLoadReport LoadWeights(this AutoencoderKL vae, SafetensorsFile file) => ModuleWeights.Load(vae, file);

    /// <summary>
    /// Loads every weight of a text encoder from a safetensors file stored under transformers' names, ignoring the
    /// names <see cref="ClipTextEncoder.IsIgnorableKey"/> accepts.
    /// </summary>
    /// <param name="encoder">The text encoder whose parameters are overwritten.</param>
    /// <param name="file">The open file.</param>
    /// <param name="prefix">
    /// Prefix of the text encoder's names in the file: empty for a diffusers <c>text_encoder</c> folder,
    /// <c>cond_stage_model.transformer.</c> in an SD 1.x single-file checkpoint. Names outside the prefix are not considered.
    /// </param>
    /// <param name="strict">Fail on missing or unexpected names (shape mismatches always fail).</param>
    /// <exception cref="CheckpointFormatException">The file does not fit this model; the message names the file and tensors.</exception>
    public static WeightLoadReport LoadWeights(this ClipTextEncoder encoder, SafetensorsFile file, string prefix = "", bool strict = true) =>
        ModuleWeights.Load(encoder, file, strict, ClipTextEncoder.IsIgnorableKey, prefix);
}
