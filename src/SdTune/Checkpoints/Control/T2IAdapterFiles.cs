using SdTune.Models.Control;

namespace SdTune.Checkpoints.Control;

/// <summary>T2I-Adapters in diffusers' folder layout (<c>T2IAdapter.save_pretrained</c>): <c>config.json</c> and <c>diffusion_pytorch_model.safetensors</c>.</summary>
public static class T2IAdapterFiles
{
    /// <summary>Loads a diffusers T2I-Adapter folder (strictly: every tensor present, none unknown, shapes equal).</summary>
    /// <param name="folder">The folder holding <c>config.json</c> and the weights.</param>
    /// <param name="options">Element type and weight variant; null for <see cref="ModelLoadOptions.Default"/>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IO.CheckpointFormatException">The config or weights are missing or invalid; the message names the file.</exception>
    public static T2IAdapter LoadFolder(string folder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        options.Validate();
        var (configPath, weights) = DiffusersModelFolder.Locate(folder, options.Variant, "T2I-Adapter");
        var config = T2IAdapterConfig.Load(configPath);
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new IO.CheckpointFormatException(configPath, e.Message);
        }

        return ModuleFiles.Load(() => new T2IAdapter(config), weights, options.DType);
    }

    /// <summary>Saves <paramref name="adapter"/> as a diffusers folder, replacing <paramref name="folder"/> atomically.</summary>
    public static void SaveFolder(T2IAdapter adapter, string folder, ModelSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        DiffusersModelFolder.Save(folder, adapter.Config.ToJson(), adapter, options ?? ModelSaveOptions.Default);
    }
}
