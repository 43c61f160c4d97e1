using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>
/// diffusers' Custom Diffusion weights (<c>unet.save_attn_procs</c>, <c>pytorch_custom_diffusion_weights.safetensors</c>):
/// the trained cross-attention projections of every UNet attention layer, keyed by the layer's attention-processor
/// name, <c>&lt;path&gt;.processor.to_k_custom_diffusion.weight</c> and <c>…to_v_custom_diffusion.weight</c>, with
/// <c>freeze_model = "crossattn"</c> also <c>…to_q_custom_diffusion.weight</c> and
/// <c>…to_out_custom_diffusion.0.weight</c>/<c>.bias</c>; safetensors metadata <c>{"format": "pt"}</c>.
/// </summary>
public static class CustomDiffusionFormat
{
    /// <summary>The file name diffusers saves and loads.</summary>
    public const string WeightsFileName = "pytorch_custom_diffusion_weights.safetensors";

    private static readonly (string Projection, string Stored)[] Projections =
    [
        ("to_k", "to_k_custom_diffusion"),
        ("to_v", "to_v_custom_diffusion"),
        ("to_q", "to_q_custom_diffusion"),
        ("to_out.0", "to_out_custom_diffusion.0"),
    ];

    /// <summary>The stored key of one tensor of an attention layer's projection.</summary>
    /// <param name="attentionPath">The attention module's path in the UNet (<c>down_blocks.0.attentions.0.transformer_blocks.0.attn2</c>).</param>
    /// <param name="projection"><c>to_k</c>, <c>to_v</c>, <c>to_q</c> or <c>to_out.0</c>.</param>
    /// <param name="tensor"><c>weight</c> or <c>bias</c>.</param>
    public static string Key(string attentionPath, string projection, string tensor) =>
        $"{attentionPath}.processor.{Projections.Single(p => p.Projection == projection).Stored}.{tensor}";

    /// <summary>
    /// Reads a stored key back as (attention path, projection, tensor name), the projection in the UNet's own naming
    /// (<c>to_out.0</c>); null for a key of another layout.
    /// </summary>
    public static (string AttentionPath, string Projection, string Tensor)? Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var marker = key.IndexOf(".processor.", StringComparison.Ordinal);
        if (marker < 0)
        {
            return null;
        }

        var rest = key[(marker + ".processor.".Length)..];
        foreach (var (projection, stored) in Projections)
        {
            var tensor = rest.StartsWith(stored + ".", StringComparison.Ordinal) ? rest[(stored.Length + 1)..] : null;
            if (tensor is "weight" or "bias")
            {
                return (key[..marker], projection, tensor);
            }
        }

        return null;
    }

    /// <summary>Writes the tensors (keyed by <see cref="Key"/>) to <paramref name="path"/>, atomically.</summary>
    public static void Save(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors) =>
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

    /// <summary>
    /// Reads a weights file, or the <see cref="WeightsFileName"/> of a folder, as (attention path, projection, tensor name)
    /// → tensor (float32, CPU).
    /// </summary>
    /// <exception cref="CheckpointFormatException">A key is not a Custom Diffusion key, or the file holds none.</exception>
    public static IReadOnlyList<((string AttentionPath, string Projection, string Tensor) Target, Tensor Value)> Read(string path)
    {
        var file = WeightsFile(path);
        using var source = TensorSources.Open(file);
        var result = new List<((string, string, string), Tensor)>();
        foreach (var entry in source.Entries)
        {
            var target = Parse(entry.Name) ?? throw new CheckpointFormatException(file, $"'{entry.Name}' is not a Custom Diffusion key (<attention>.processor.to_k_custom_diffusion.weight, ...).");
            result.Add((target, source.Read(entry.Name).to(ScalarType.Float32)));
        }

        return result.Count > 0 ? result : throw new CheckpointFormatException(file, "holds no tensors.");
    }

    /// <summary>The weights file a path names: the path itself, or the folder's <see cref="WeightsFileName"/>.</summary>
    /// <exception cref="FileNotFoundException">Neither exists.</exception>
    public static string WeightsFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            return path;
        }

        var inFolder = Path.Combine(path, WeightsFileName);
        return Directory.Exists(path) && File.Exists(inFolder)
            ? inFolder
            : throw new FileNotFoundException($"{path}: no Custom Diffusion weights (a .safetensors file, or a folder with {WeightsFileName}).", path);
    }

    /// <summary>
    /// The modifier-token embeddings saved with the weights (<c>&lt;token&gt;.safetensors</c>, diffusers' layout): every
    /// other .safetensors file beside a <see cref="WeightsFileName"/>; none for a weights file of another name.
    /// </summary>
    /// <exception cref="FileNotFoundException">The path holds no Custom Diffusion weights.</exception>
    public static IEnumerable<string> TokenFiles(string path)
    {
        var weights = Path.GetFullPath(WeightsFile(path));
        return Path.GetFileName(weights) != WeightsFileName
            ? []
            : Directory.GetFiles(Path.GetDirectoryName(weights)!, "*.safetensors").Where(f => Path.GetFullPath(f) != weights).Order(StringComparer.Ordinal);
    }
}
