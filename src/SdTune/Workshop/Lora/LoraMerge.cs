using System.Globalization;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>What <see cref="LoraMerge"/> reads and writes.</summary>
public sealed record LoraMergeOptions
{
    /// <summary>The LoRAs and their weights; at least one.</summary>
    public required IReadOnlyList<LoraMergeInput> Inputs { get; init; }

    /// <summary>The <c>.safetensors</c> file to write; never an input.</summary>
    public required string Output { get; init; }

    /// <summary>Concatenation (exact) or SVD re-factoring.</summary>
    public LoraMergeMethod Method { get; init; } = LoraMergeMethod.Concat;

    /// <summary>SVD only: the rank of Linear and 1x1 convolution modules.</summary>
    public LowRankRule? Rank { get; init; }

    /// <summary>SVD only: the rank of 3x3 convolution modules; null uses <see cref="Rank"/>.</summary>
    public LowRankRule? ConvRank { get; init; }

    /// <summary>SVD only: clamp quantile of the factors (kohya's 0.99; 1 leaves them exact).</summary>
    public double ClampQuantile { get; init; } = 0.99;

    /// <summary>Tensor type of the file; null writes float32.</summary>
    public ScalarType? SaveDType { get; init; }

    /// <summary>A base model to read the files onto; null uses the files' published family without weights.</summary>
    public string? Model { get; init; }
}

/// <summary>
/// Merges LoRAs into one LoRA file. For each layer any input adapts, the merged delta is <c>Σ weight_i · ΔW_i</c>
/// (inputs that do not adapt it count 0): <see cref="LoraMergeMethod.Concat"/> stacks the factors (the up factors carry
/// each input's weight and alpha/rank; alpha = the summed rank), which is exact; <see cref="LoraMergeMethod.Svd"/> sums
/// the full deltas and keeps the chosen rank by SVD, clamped at the quantile (alpha = rank), reporting each module's
/// relative Frobenius error. The inputs must be for one model family.
/// </summary>
public static class LoraMerge
{
    /// <summary>Reads, merges and writes (atomically).</summary>
    /// <param name="options">What to read and write.</param>
    /// <param name="targets">The models to read the files onto; null opens them from <see cref="LoraMergeOptions.Model"/> or the files' family.</param>
    /// <exception cref="ArgumentException">Bad options, files for different model families, a non-LoRA module in a concatenation, a rank above a module's dimension, or the output is an input; the message names the option or the file.</exception>
    public static LoraToolResult Run(LoraMergeOptions options, LoraTargets? targets = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var paths = options.Inputs.Select(i => i.Path).ToArray();
        LoraToolOutput.EnsureNotInput(options.Output, "--out", paths);
        using var opened = targets is null ? LoraToolTargets.Open(options.Model, paths) : null;
        targets ??= opened!.Targets;
        var files = new List<LoraFile>();
        try
        {
            foreach (var input in options.Inputs)
            {
                files.Add(LoraInputs.Read(input.Path, targets));
            }

            var weighted = files.Select((f, i) => (f, options.Inputs[i].Weight)).ToList();
            var (entries, reports) = options.Method == LoraMergeMethod.Concat
                ? Concatenate(weighted)
                : SvdMerge(weighted, options.Rank!, options.ConvRank ?? options.Rank!, options.ClampQuantile);
            // The inputs' training keys describe other runs: only the merge itself is recorded.
            var saveOptions = LoraToolOutput.SaveOptions(files[0].Metadata, options.SaveDType) with { TrainingMetadata = Metadata(options) };
            LoraToolOutput.Save(options.Output, targets.Architecture, entries, saveOptions);
            return new LoraToolResult(options.Output, reports, []);
        }
        finally
        {
            files.ForEach(f => f.Network.Dispose());
        }
    }

    /// <summary>Concatenates LoRA/LoCon modules along the rank: exact.</summary>
    /// <exception cref="ArgumentException">A module is not LoRA/LoCon; the message names the file and the module.</exception>
    public static (IReadOnlyList<LoraNetworkEntry> Entries, IReadOnlyList<LoraModuleReport> Reports) Concatenate(IReadOnlyList<(LoraFile File, double Weight)> inputs) =>
        Combine(inputs, (name, parts) =>
        {
            using var scope = NewDisposeScope();
            var ups = new List<Tensor>();
            var downs = new List<Tensor>();
            foreach (var (file, weight, module) in parts)
            {
                var lora = module as LoraModule
                    ?? throw new ArgumentException($"{file.Path}: module '{name}' is {module.GetName()}, and only LoRA/LoCon factors can be concatenated; use the svd method for other families.");
                ups.Add(lora.UpWeight.detach().flatten(1) * (weight * lora.Scale));
                downs.Add(lora.DownWeight.detach().flatten(1));
            }

            var up = cat(ups, 1).MoveToOuterDisposeScope();
            var down = cat(downs, 0).MoveToOuterDisposeScope();
            return new LowRankFactors(up, down, 1.0);
        });

    /// <summary>Sums the weighted deltas and factors each sum by SVD.</summary>
    /// <exception cref="ArgumentException">A fixed rank above a module's dimension; the message names the option and the module.</exception>
    public static (IReadOnlyList<LoraNetworkEntry> Entries, IReadOnlyList<LoraModuleReport> Reports) SvdMerge(
        IReadOnlyList<(LoraFile File, double Weight)> inputs, LowRankRule rank, LowRankRule convRank, double clampQuantile)
    {
        ArgumentNullException.ThrowIfNull(rank);
        ArgumentNullException.ThrowIfNull(convRank);
        return Combine(inputs, (name, parts) =>
        {
            using var sum = WeightedSum(parts);
            using var matrix = LowRankModules.Matrix(sum);
            return LowRankSvd.Factor(matrix, parts[0].Module.Target.IsSpatialConv ? convRank : rank, clampQuantile, name);
        });
    }

    // For every module name in first-appearance order: factors from the parts, the new module, and its report.
    private static (IReadOnlyList<LoraNetworkEntry>, IReadOnlyList<LoraModuleReport>) Combine(
        IReadOnlyList<(LoraFile File, double Weight)> inputs, Func<string, IReadOnlyList<(LoraFile File, double Weight, AdapterModule Module)>, LowRankFactors> factor)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var byName = new Dictionary<string, List<(LoraFile, double, AdapterModule)>>(StringComparer.Ordinal);
        var first = new Dictionary<string, LoraNetworkEntry>(StringComparer.Ordinal);
        foreach (var (file, weight) in inputs)
        {
            foreach (var entry in file.Network.Entries)
            {
                if (first.TryAdd(entry.Name, entry))
                {
                    byName[entry.Name] = [];
                }

                byName[entry.Name].Add((file, weight, entry.Module));
            }
        }

        var entries = new List<LoraNetworkEntry>();
        var reports = new List<LoraModuleReport>();
        try
        {
            foreach (var (name, entry) in first)
            {
                // No dispose scope around the module: its parameters must outlive the iteration.
                using var noGrad = no_grad();
                var parts = byName[name];
                using var factors = factor(name, parts);
                var module = LowRankModules.Create(entry.Module.Target, factors);
                entries.Add(entry with { Module = module });
                using var exact = WeightedSum(parts);
                using var written = module.DeltaWeight();
                reports.Add(new LoraModuleReport(name, parts.Sum(p => p.Item3.Rank), factors.Rank, factors.RetainedFrobenius, LowRankSvd.RelativeError(exact, written)));
            }
        }
        catch
        {
            entries.ForEach(e => e.Module.Dispose());
            throw;
        }

        return (entries, reports);
    }

    // Σ weight · ΔW over the parts, float32.
    private static Tensor WeightedSum(IReadOnlyList<(LoraFile File, double Weight, AdapterModule Module)> parts)
    {
        using var scope = NewDisposeScope();
        var sum = zeros(parts[0].Module.Target.WeightShape, ScalarType.Float32);
        foreach (var (_, weight, module) in parts)
        {
            sum += module.DeltaWeight().to(ScalarType.Float32) * weight;
        }

        return sum.MoveToOuterDisposeScope();
    }

    private static void Validate(LoraMergeOptions options)
    {
        if (options.Inputs.Count == 0)
        {
            throw new ArgumentException("lora merge needs at least one LoRA file.");
        }

        if (options.Method == LoraMergeMethod.Svd)
        {
            var rank = options.Rank ?? throw new ArgumentException("--method svd needs --rank.");
            rank.Validate();
            options.ConvRank?.Validate();
            LowRankSvd.CheckClampQuantile(options.ClampQuantile);
        }
        else if (options.Rank is not null || options.ConvRank is not null)
        {
            throw new ArgumentException("--rank and --conv-rank apply to --method svd only; a concatenation's rank is the sum of the inputs' ranks.");
        }
    }

    private static Dictionary<string, string> Metadata(LoraMergeOptions options)
    {
        var how = options.Method == LoraMergeMethod.Concat
            ? "concatenated"
            : string.Create(CultureInfo.InvariantCulture, $"SVD-merged to rank {options.Rank!.Rank}{(options.ConvRank is { } c ? $" (3x3 convolutions: rank {c.Rank})" : "")}");
        var parts = options.Inputs.Select(i => string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(i.Path)} x {i.Weight}"));
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_training_comment"] = $"{how} from {string.Join(", ", parts)}",
        };
    }
}
