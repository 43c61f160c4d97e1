using SdTune.IO;
using SdTune.Models;

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
}
