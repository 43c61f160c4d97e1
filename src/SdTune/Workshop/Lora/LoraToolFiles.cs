using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>What the file-to-file LoRA tools share: the output checks, the metadata carried over, alpha tensors.</summary>
internal static class LoraToolFiles
{
    /// <summary>Refuses to write onto the input, or onto an existing file unless <paramref name="overwrite"/>.</summary>
    /// <exception cref="ArgumentException">The output is the input, or exists.</exception>
    public static void CheckOutput(string input, string output, bool overwrite)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(output), comparison))
        {
            throw new ArgumentException($"{output}: the output would overwrite the input; choose another output file.");
        }

        if (File.Exists(output) && !overwrite)
        {
            throw new ArgumentException($"{output} exists; pass --overwrite to replace it.");
        }
    }

    /// <summary>
    /// The source's metadata that stays valid in a rewritten file: everything but the kohya hashes (recomputed on the new
    /// tensors), diffusers' <c>format</c> and its PEFT configs (rewritten for the new modules).
    /// </summary>
    public static Dictionary<string, string> CarriedMetadata(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Where(kv => !kv.Key.StartsWith("sshs_", StringComparison.Ordinal) && kv.Key != "format" && kv.Key != PeftAdapterMetadata.Key)
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>Writes a kohya-named file with its hashes, metadata split into the <c>ss_*</c> keys and the rest.</summary>
    public static void SaveKohya(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var training = metadata.Where(kv => kv.Key.StartsWith("ss_", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var others = metadata.Where(kv => !kv.Key.StartsWith("ss_", StringComparison.Ordinal) && !kv.Key.StartsWith("sshs_", StringComparison.Ordinal));
        KohyaLoraFormat.SaveTensors(path, tensors, training, others);
    }

    /// <summary>A 0-d alpha tensor of <paramref name="preferred"/>'s type when that holds the value exactly, else float32 or float64.</summary>
    public static Tensor AlphaTensor(double alpha, ScalarType preferred)
    {
        foreach (var type in new[] { preferred, ScalarType.Float32, ScalarType.Float64 }.Where(t => t is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64))
        {
            var candidate = tensor(alpha, ScalarType.Float64).to(type);
            if (candidate.to(ScalarType.Float64).item<double>() == alpha)
            {
                return candidate;
            }
        }

        return tensor(alpha, ScalarType.Float64);
    }

    /// <summary>A stored 0-d tensor's value.</summary>
    public static double Scalar(ITensorSource file, string name)
    {
        using var value = file.Read(name);
        using var wide = value.to(ScalarType.Float64);
        return wide.item<double>();
    }
}
