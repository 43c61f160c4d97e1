using System.Globalization;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>What <see cref="LoraExtract"/> reads and writes.</summary>
public sealed record LoraExtractOptions
{
    /// <summary>The original model (any format <see cref="StableDiffusionModels.Load"/> reads).</summary>
    public required string Base { get; init; }

    /// <summary>The fine-tuned model, of the same architecture.</summary>
    public required string Tuned { get; init; }

    /// <summary>The <c>.safetensors</c> file to write; never an input.</summary>
    public required string Output { get; init; }

    /// <summary>The rank of Linear and 1x1 convolution modules (kohya's <c>--dim</c>, default 4); with a dynamic method, the most they keep.</summary>
    public LowRankRule Rank { get; init; } = new(4);

    /// <summary>The rank of 3x3 convolution modules (kohya's <c>--conv_dim</c>); null leaves the resnets and samplers out (a plain LoRA, not LoCon).</summary>
    public LowRankRule? ConvRank { get; init; }

    /// <summary>Clamp quantile of the factors (kohya's 0.99; 1 leaves them exact).</summary>
    public double ClampQuantile { get; init; } = 0.99;

    /// <summary>A text encoder whose weights differ by at most this much everywhere is left out (kohya's <c>--min_diff</c>, 0.01).</summary>
    public double MinDiff { get; init; } = 0.01;

    /// <summary>Tensor type of the file; null writes float32.</summary>
    public ScalarType? SaveDType { get; init; }
}

/// <summary>
/// Extracts a LoRA from the difference of two checkpoints, as kohya's <c>extract_lora_from_models.py</c> does: for every
/// layer kohya's LoRA adapts (UNet transformer blocks and text-encoder attention/MLP; with a conv rank also the resnets
/// and samplers, 3x3 convolutions as LoCon), the weight difference is factored by SVD at the rank (fixed, or chosen by a
/// dynamic method), the factors clamped at the quantile, alpha = rank. A text encoder that did not change (every
/// difference at most <see cref="LoraExtractOptions.MinDiff"/>) is left out.
/// </summary>
public static class LoraExtract
{
    /// <summary>Loads both models, extracts and writes (atomically).</summary>
    /// <exception cref="ArgumentException">Bad options, models of different architectures or layer shapes, a rank above a module's dimension, or the output is an input; the message names the option or the files.</exception>
    public static LoraToolResult Run(LoraExtractOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Rank.Validate();
        options.ConvRank?.Validate();
        LowRankSvd.CheckClampQuantile(options.ClampQuantile);
        if (!(options.MinDiff >= 0))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--min-diff must be at least 0, got {options.MinDiff}."));
        }

        LoraToolOutput.EnsureNotInput(options.Output, "--out", options.Base, options.Tuned);
        using var original = StableDiffusionModels.Load(options.Base);
        using var tuned = StableDiffusionModels.Load(options.Tuned);
        if (original.Architecture != tuned.Architecture)
        {
            throw new ArgumentException($"{options.Tuned} is an {LoraInputs.Describe(tuned.Architecture)} model, but {options.Base} is an {LoraInputs.Describe(original.Architecture)} model: a LoRA can only be extracted from two models of one architecture.");
        }

        var notes = new List<string>();
        var (entries, reports) = Extract(original, tuned, options, notes);
        if (entries.Count == 0)
        {
            throw new ArgumentException($"{options.Tuned} and {options.Base}: no layer to extract.");
        }

        var saveOptions = new KohyaSaveOptions
        {
            SaveDType = options.SaveDType,
            PredictionType = tuned.PredictionType,
            TrainingMetadata = Metadata(options),
        };
        LoraToolOutput.Save(options.Output, original.Architecture, entries, saveOptions);
        return new LoraToolResult(options.Output, reports, notes);
    }

    /// <summary>
    /// The LoRA modules (on <paramref name="original"/>'s layers) that carry <paramref name="tuned"/> − <paramref name="original"/>.
    /// </summary>
    /// <param name="original">The base model.</param>
    /// <param name="tuned">The fine-tuned model.</param>
    /// <param name="options">Ranks, clamp quantile, minimum text-encoder difference (the paths are only named in messages).</param>
    /// <param name="notes">Receives a line for every text encoder left out.</param>
    public static (IReadOnlyList<LoraNetworkEntry> Entries, IReadOnlyList<LoraModuleReport> Reports) Extract(
        StableDiffusionModel original, StableDiffusionModel tuned, LoraExtractOptions options, ICollection<string> notes)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(tuned);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(notes);
        var targets = new LoraTargets(original.Unet, original.TextEncoder, original.TextEncoder2);
        var tunedTargets = new LoraTargets(tuned.Unet, tuned.TextEncoder, tuned.TextEncoder2);
        var names = new KohyaModuleNames(targets);
        var entries = new List<LoraNetworkEntry>();
        var reports = new List<LoraModuleReport>();
        try
        {
            foreach (var component in targets.Present)
            {
                var layers = Pairs(targets.Get(component)!, tunedTargets.Get(component), options, component).ToList();
                if (component != LoraComponent.Unet && MaxDifference(layers) is var largest && largest <= options.MinDiff)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture, $"{component}: the largest weight difference is {largest:G3}, at most --min-diff {options.MinDiff}; not extracted."));
                    continue;
                }

                foreach (var (path, layer, changed) in layers)
                {
                    // No dispose scope around the module: its parameters must outlive the iteration.
                    using var noGrad = no_grad();
                    var name = names.Name(component, path);
                    using var difference = Difference(layer, changed);
                    using var matrix = LowRankModules.Matrix(difference);
                    using var factors = LowRankSvd.Factor(matrix, layer.IsSpatialConv ? options.ConvRank! : options.Rank, options.ClampQuantile, name);
                    var module = LowRankModules.Create(layer, factors);
                    entries.Add(new LoraNetworkEntry(name, component, path, module));
                    using var written = module.DeltaWeight();
                    reports.Add(new LoraModuleReport(name, 0, factors.Rank, factors.RetainedFrobenius, LowRankSvd.RelativeError(difference, written)));
                }
            }
        }
        catch
        {
            entries.ForEach(e => e.Module.Dispose());
            throw;
        }

        return (entries, reports);
    }

    // The layers kohya adapts in a component, paired with the tuned model's layer at the same path.
    private static IEnumerable<(string Path, AdaptedLayer Layer, AdaptedLayer Tuned)> Pairs(nn.Module original, nn.Module? tuned, LoraExtractOptions options, LoraComponent component)
    {
        var convBlocks = component == LoraComponent.Unet && options.ConvRank is not null;
        var tunedLayers = tuned is null ? [] : LoraNetwork.TargetLayers(tuned, convBlocks).ToDictionary(l => l.Path, l => l.Layer, StringComparer.Ordinal);
        foreach (var (path, layer) in LoraNetwork.TargetLayers(original, convBlocks))
        {
            if (layer.IsSpatialConv && options.ConvRank is null)
            {
                continue;
            }

            if (!tunedLayers.TryGetValue(path, out var changed) || !changed.WeightShape.SequenceEqual(layer.WeightShape))
            {
                throw new ArgumentException($"{options.Tuned} does not have the layer {component} '{path}' of {options.Base} with weight [{string.Join(", ", layer.WeightShape)}]: the models differ in architecture.");
            }

            yield return (path, layer, changed);
        }
    }

    private static Tensor Difference(AdaptedLayer original, AdaptedLayer tuned)
    {
        using var scope = NewDisposeScope();
        return (tuned.Weight.detach().to(ScalarType.Float32) - original.Weight.detach().to(ScalarType.Float32)).MoveToOuterDisposeScope();
    }

    private static double MaxDifference(IEnumerable<(string Path, AdaptedLayer Layer, AdaptedLayer Tuned)> layers)
    {
        var largest = 0.0;
        foreach (var (_, layer, changed) in layers)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            largest = Math.Max(largest, Difference(layer, changed).abs().max().item<float>());
        }

        return largest;
    }

    private static Dictionary<string, string> Metadata(LoraExtractOptions options)
    {
        static string Describe(LowRankRule rule) => rule.IsDynamic
            ? string.Create(CultureInfo.InvariantCulture, $"{LowRankRule.MethodName(rule.Method)} {rule.Parameter}, at most rank {rule.Rank}")
            : string.Create(CultureInfo.InvariantCulture, $"rank {rule.Rank}");

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_training_comment"] = string.Create(CultureInfo.InvariantCulture,
                $"extracted from {Path.GetFileName(options.Tuned)} minus {Path.GetFileName(options.Base)}: {Describe(options.Rank)}{(options.ConvRank is { } c ? $", 3x3 convolutions {Describe(c)}" : "")}, clamp quantile {options.ClampQuantile}"),
        };
        if (options.Rank.IsDynamic || options.ConvRank?.IsDynamic == true)
        {
            metadata["ss_network_dim"] = "Dynamic";
            metadata["ss_network_alpha"] = "Dynamic";
        }

        return metadata;
    }
}
