using SdTune.Models.Control;

namespace SdTune.Checkpoints.Control;

/// <summary>
/// ControlNets on disk: diffusers folders (<c>ControlNetModel.save_pretrained</c>) and single files in the original
/// layout A1111 and ComfyUI load (<c>input_hint_block</c>, <c>input_blocks</c>, <c>zero_convs</c>,
/// <c>middle_block_out</c>, optionally under <c>control_model.</c>), see <see cref="ControlNetSingleFile"/>.
/// </summary>
public static class ControlNetFiles
{
    /// <summary>Loads a ControlNet from a diffusers folder or a single file, told apart by what the path is.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="IO.CheckpointFormatException">The folder or file is no (supported) ControlNet; the message names it.</exception>
    public static ControlNetModel Load(string path, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Directory.Exists(path) ? LoadFolder(path, options)
            : File.Exists(path) ? ControlNetSingleFile.Load(path, options)
            : throw new FileNotFoundException($"{path}: no such file or folder.", path);
    }

    /// <summary>Loads a diffusers ControlNet folder (strictly: every tensor present, none unknown, shapes equal).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IO.CheckpointFormatException">The config or weights are missing or invalid; the message names the file.</exception>
    public static ControlNetModel LoadFolder(string folder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        options.Validate();
        var (configPath, weights) = DiffusersModelFolder.Locate(folder, options.Variant, "ControlNet");
        var config = ControlNetConfig.Load(configPath);
        return ModuleFiles.Load(() => new ControlNetModel(config), weights, options.DType);
    }

    /// <summary>Saves <paramref name="controlNet"/> as a diffusers folder, replacing <paramref name="folder"/> atomically.</summary>
    public static void SaveFolder(ControlNetModel controlNet, string folder, ModelSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(controlNet);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        DiffusersModelFolder.Save(folder, controlNet.Config.ToJson(), controlNet, options ?? ModelSaveOptions.Default);
    }
}
