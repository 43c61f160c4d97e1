using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Control;

/// <summary>
/// A single diffusers model folder (<c>save_pretrained</c> of one model): <c>config.json</c> beside
/// <c>diffusion_pytorch_model[.variant].safetensors</c> (or <c>.bin</c>, whole or sharded).
/// </summary>
internal static class DiffusersModelFolder
{
    /// <summary>The config and weight files of <paramref name="folder"/>; <paramref name="what"/> names the model in errors.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The config or the weights are missing.</exception>
    public static (string Config, string Weights) Locate(string folder, string? variant, string what)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{folder}: folder not found.");
        }

        var config = Path.Combine(folder, "config.json");
        if (!File.Exists(config))
        {
            throw new CheckpointFormatException(folder, $"not a diffusers {what} folder: there is no config.json.");
        }

        var weights = DiffusersPipelineFormat.FindWeights(folder, transformers: false, variant, out var hint)
            ?? throw new CheckpointFormatException(folder, $"the {what} folder has no weights ({hint}).");
        return (config, weights);
    }

    /// <summary>Writes <paramref name="folder"/> (replacing it atomically) with the config and a safetensors file of the module.</summary>
    public static void Save(string folder, string configJson, nn.Module module, ModelSaveOptions options)
    {
        options.Validate();
        var suffix = options.Variant is null ? "" : "." + options.Variant;
        AtomicFolder.Write(folder, staging =>
            DiffusersPipelineFormat.WriteModel(staging, "", configJson, module, $"diffusion_pytorch_model{suffix}.safetensors", options));
    }
}
