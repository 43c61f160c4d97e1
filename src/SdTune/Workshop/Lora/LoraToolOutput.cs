using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>Where and how the LoRA tools write: never over an input, kohya's file layout, metadata carried over from the input.</summary>
public static class LoraToolOutput
{
    // Keys the writer derives from the network (or that describe the input file itself): never carried over.
    private static readonly HashSet<string> DerivedKeys = new(StringComparer.Ordinal)
    {
        "ss_output_name", "ss_network_module", "ss_network_dim", "ss_network_alpha", "ss_network_args", "ss_network_dropout",
        "ss_base_model_version", "ss_v2", "ss_training_comment",
    };

    /// <summary>Fails when <paramref name="output"/> is one of <paramref name="inputs"/> or a folder holding one (writing it would replace an input).</summary>
    /// <param name="output">The file or folder to write.</param>
    /// <param name="outputOption">The option that named it, for the message.</param>
    /// <param name="inputs">The files and folders read.</param>
    /// <exception cref="ArgumentException">The output would overwrite an input; the message names both.</exception>
    public static void EnsureNotInput(string output, string outputOption, params string[] inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentNullException.ThrowIfNull(inputs);
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        foreach (var input in inputs)
        {
            var source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(input));
            var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (string.Equals(source, target, comparison) || source.StartsWith(target + Path.DirectorySeparatorChar, comparison))
            {
                throw new ArgumentException($"{outputOption} {output} would overwrite the input {input}; write to another path.");
            }
        }
    }

    /// <summary>
    /// Save options for a file made from an input with <paramref name="metadata"/>: its prediction type, resolution, clip
    /// skip and training keys (<c>ss_*</c>, except those the writer derives from the new network), plus
    /// <paramref name="extra"/> (which wins).
    /// </summary>
    public static KohyaSaveOptions SaveOptions(IReadOnlyDictionary<string, string>? metadata, ScalarType? saveDType, IReadOnlyDictionary<string, string>? extra = null)
    {
        metadata ??= new Dictionary<string, string>();
        var training = metadata.Where(kv => kv.Key.StartsWith("ss_", StringComparison.Ordinal) && !DerivedKeys.Contains(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            training[key] = value;
        }

        return new KohyaSaveOptions
        {
            SaveDType = saveDType,
            PredictionType = metadata.TryGetValue("modelspec.prediction_type", out var prediction) && prediction == "v" ? PredictionType.VPrediction : PredictionType.Epsilon,
            Resolution = metadata.TryGetValue("modelspec.resolution", out var resolution) ? resolution : null,
            ClipSkip = metadata.TryGetValue("ss_clip_skip", out var clipSkip) && int.TryParse(clipSkip, System.Globalization.CultureInfo.InvariantCulture, out var skip) ? skip : null,
            TrainingMetadata = training,
        };
    }

    /// <summary>
    /// The network options the file's metadata describes: the rank and alpha of the linear modules and, when 3x3
    /// convolutions are adapted, of those (<c>conv_dim</c>/<c>conv_alpha</c> in <c>ss_network_args</c>). The first
    /// module of each kind stands for the rest (dynamic ranks are marked in the metadata by the caller).
    /// </summary>
    public static LoraNetworkOptions NetworkOptions(IReadOnlyList<LoraNetworkEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var linear = entries.FirstOrDefault(e => !e.Module.Target.IsSpatialConv)?.Module;
        var conv = entries.FirstOrDefault(e => e.Module.Target.IsSpatialConv)?.Module;
        return new LoraNetworkOptions
        {
            Dim = linear?.Rank ?? conv?.Rank ?? 1,
            Alpha = linear?.Alpha ?? conv?.Alpha ?? 1,
            ConvDim = conv?.Rank,
            ConvAlpha = conv?.Alpha,
            TrainTextEncoder = entries.Any(e => e.Component != LoraComponent.Unet),
            TrainUnet = entries.Any(e => e.Component == LoraComponent.Unet),
        };
    }

    /// <summary>Writes <paramref name="entries"/> as a kohya LoRA file (atomically); the modules are disposed with the network written.</summary>
    /// <returns>The metadata written.</returns>
    public static IReadOnlyDictionary<string, string> Save(string path, SdArchitecture architecture, IReadOnlyList<LoraNetworkEntry> entries, KohyaSaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            throw new ArgumentException($"{path}: nothing to write (no module).");
        }

        using var network = new LoraNetwork(architecture, entries, NetworkOptions(entries));
        var metadata = KohyaLoraFormat.Save(path, network, options);
        return metadata;
    }
}
