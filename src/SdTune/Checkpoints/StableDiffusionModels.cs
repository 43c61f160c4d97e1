using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Text;
using SdTune.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>The entry point for loading a whole Stable Diffusion model from disk, whatever its format.</summary>
public static class StableDiffusionModels
{
    /// <summary>
    /// Loads a model: a folder as a diffusers pipeline (<see cref="DiffusersPipelineFormat"/>), a file as an original
    /// single-file checkpoint (<see cref="SingleFileFormat"/>; safetensors or <c>.ckpt</c>, told apart by content).
    /// </summary>
    /// <param name="path">The folder or file.</param>
    /// <param name="options">Load options; null for <see cref="ModelLoadOptions.Default"/>.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="CheckpointFormatException">The folder or file is not a (complete, supported) Stable Diffusion
    /// model; the message names it and, where it can tell, what it is instead.</exception>
    public static StableDiffusionModel Load(string path, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            return DiffusersPipelineFormat.Load(path, options);
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file or folder.", path);
        }

        return SingleFileFormat.Load(path, options);
    }

    /// <summary>
    /// Builds a whole model of a release's architecture without random initialisation: every module is constructed on the
    /// meta device (shapes only) and then given uninitialised memory, so a full-size SDXL model takes no time to make.
    /// Fill its weights before use, e.g. from a file with <c>model.Unet.load</c> or by streaming tensors into
    /// <c>model.Unet.state_dict()</c>; until then the values are whatever the memory held.
    /// </summary>
    /// <param name="preset">The architecture, e.g. <see cref="StableDiffusionPresets.SdxlBase"/>.</param>
    /// <param name="dtype">Element type of the UNet's and text encoders' floating-point tensors.</param>
    /// <param name="vaeDType">Element type of the VAE's (float32 by default, as the VAE overflows in float16).</param>
    public static StableDiffusionModel CreateEmpty(StableDiffusionPreset preset, ScalarType dtype = ScalarType.Float32, ScalarType vaeDType = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(preset);
        using var build = new BuildScope();
        var unet = build.Own(ModuleFiles.BuildEmpty(() => new UNet2DConditionModel(preset.Unet), dtype));
        var vae = build.Own(ModuleFiles.BuildEmpty(() => new AutoencoderKL(preset.Vae), vaeDType));
        var text = build.Own(ModuleFiles.BuildEmpty(() => new ClipTextModel(preset.TextEncoder), dtype));
        var text2 = preset.TextEncoder2 is { } config2 ? build.Own(ModuleFiles.BuildEmpty(() => new ClipTextModelWithProjection(config2), dtype)) : null;
        var architecture = preset.Architecture;
        var tokenizer = ClipTokenizer.CreateDefault(architecture == SdArchitecture.SD2 ? ClipPadding.Zero : ClipPadding.EndToken);
        var tokenizer2 = text2 is null ? null : ClipTokenizer.CreateDefault(ClipPadding.Zero);
        var result = new StableDiffusionModel(architecture, unet, vae, text, tokenizer, text2, tokenizer2,
            DefaultSchedulerConfigs.For(architecture, preset.Prediction), preset.Prediction);
        build.Complete();
        return result;
    }
}
