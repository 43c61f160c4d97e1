using System.Globalization;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>
/// <c>sdtune lora block-weights</c>: bakes A1111 "LoRA Block Weight" weights (<see cref="LoraBlockWeights"/>, presets in
/// <see cref="LoraBlockWeightPresets"/>) into a new LoRA file, as the extension applies them: each module's strength factor
/// (<see cref="AdapterAlgorithm.StrengthFactors"/>: LoRA's up weights, LoHa's <c>hada_w1_a</c>, LoKr's <c>lokr_w1</c>) is
/// multiplied by its block's weight, <c>BASE</c>'s for the text encoders. Applied at weight 1, the file then does what
/// the original does with those block weights at inference (up to one rounding of each scaled factor, computed in
/// float64 and stored in the file's type). The layout, names, other tensors and metadata stay the source's; kohya
/// files get new <c>sshs_*</c> hashes and every file a <c>sdtune.block_weights</c> entry recording the weights.
/// </summary>
public static class LoraBlockWeightsTool
{
    /// <summary>The metadata key that records the weights baked in.</summary>
    public const string MetadataKey = "sdtune.block_weights";

    /// <summary>Rewrites <paramref name="source"/> with <paramref name="weights"/> for the models of <paramref name="architecture"/> (null detects it).</summary>
    /// <param name="source">The LoRA file (any layout <see cref="LoraFileReader"/> reads).</param>
    /// <param name="destination">The <c>.safetensors</c> file to write; never the source.</param>
    /// <param name="weights">A preset name or 12, 17, 20 or 26 comma-separated numbers.</param>
    /// <param name="architecture">The model family; null to detect it.</param>
    /// <param name="overwrite">Replace an existing destination.</param>
    /// <exception cref="ArgumentException">Bad weights (the message names <c>--weights</c>), the destination is the source or exists, the family cannot be told, or nothing matches.</exception>
    public static LoraBlockWeightsResult Run(string source, string destination, string weights, SdArchitecture? architecture, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LoraToolFiles.CheckOutput(source, destination, overwrite);
        using var file = TensorSources.Open(source);
        using var targets = LoraFileTargets.Create(architecture ?? LoraFileTargets.Detect(file));
        var vector = LoraBlockWeightPresets.Parse(weights, targets.Targets.Architecture, "--weights");
        return Write(file, destination, targets.Targets, vector);
    }

    /// <summary>Rewrites <paramref name="source"/> with <paramref name="weights"/> for <paramref name="targets"/> (any models, meta-device ones included).</summary>
    /// <exception cref="ArgumentException">A wrong number of weights, the destination is the source or exists, or nothing matches.</exception>
    public static LoraBlockWeightsResult Run(string source, string destination, IReadOnlyList<double> weights, LoraTargets targets, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(targets);
        LoraBlockWeightPresets.CheckLength(weights.Count, "--weights");
        LoraToolFiles.CheckOutput(source, destination, overwrite);
        using var file = TensorSources.Open(source);
        return Write(file, destination, targets, weights);
    }

    private static LoraBlockWeightsResult Write(ITensorSource file, string destination, LoraTargets targets, IReadOnlyList<double> weights)
    {
        var blocks = new LoraBlockWeights(targets, weights);
        var (modules, unmatched) = LoraFileModules.Match(file, targets);
        if (modules.Count == 0)
        {
            throw new ArgumentException($"{file.Path}: no tensor matches a layer of {targets.Architecture} models ({file.Entries.Count} tensors); is it a LoRA for another model family? Give --architecture.");
        }

        // Stored tensor name -> block weight of the factor it is.
        var scales = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var module in modules)
        {
            var factor = module.Algorithm.StrengthFactors.First(module.Tensors.ContainsKey);
            scales[module.Tensors[factor]] = module.Component == LoraComponent.Unet ? blocks.WeightOf(module.ModulePath) : blocks.Base;
        }

        using var scope = NewDisposeScope();
        var tensors = file.Entries.Select(entry =>
        {
            var stored = file.Read(entry.Name);
            var scaled = scales.TryGetValue(entry.Name, out var w) && w != 1 ? (stored.to(ScalarType.Float64) * w).to(stored.dtype) : stored;
            return new KeyValuePair<string, Tensor>(entry.Name, scaled);
        }).ToList();

        var metadata = file.Metadata.Where(kv => !kv.Key.StartsWith("sshs_", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        metadata[MetadataKey] = string.Join(",", weights.Select(w => w.ToString("R", CultureInfo.InvariantCulture)));
        if (modules.All(m => m.HasKohyaName))
        {
            LoraToolFiles.SaveKohya(destination, tensors, metadata);
        }
        else
        {
            SafetensorsWriter.Save(destination, tensors, metadata);
        }

        return new LoraBlockWeightsResult(targets.Architecture, weights, modules.Count, unmatched);
    }
}
