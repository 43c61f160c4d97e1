using System.Globalization;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>What <see cref="LoraResize"/> reads and writes.</summary>
public sealed record LoraResizeOptions
{
    /// <summary>The LoRA file (any family <see cref="LoraFileReader"/> reads).</summary>
    public required string Input { get; init; }

    /// <summary>The <c>.safetensors</c> file to write; never the input.</summary>
    public required string Output { get; init; }

    /// <summary>The rank of Linear and 1x1 convolution modules (with a dynamic method: the most they keep).</summary>
    public required LowRankRule Rank { get; init; }

    /// <summary>The rule for 3x3 convolution modules; null uses <see cref="Rank"/>.</summary>
    public LowRankRule? ConvRank { get; init; }

    /// <summary>Clamp quantile of the new factors (1 keeps them exact; kohya's resize does not clamp).</summary>
    public double ClampQuantile { get; init; } = 1.0;

    /// <summary>Tensor type of the file; null writes float32.</summary>
    public ScalarType? SaveDType { get; init; }

    /// <summary>A base model to read the file onto; null uses the file's published family without weights.</summary>
    public string? Model { get; init; }
}

/// <summary>
/// Changes the rank of a LoRA's modules as kohya's <c>resize_lora.py</c> does: each module's delta (divided by its scale)
/// is factored by SVD at the new rank, or at the rank a dynamic method chooses (<c>sv_ratio</c>, <c>sv_fro</c>,
/// <c>sv_cumulative</c>, capped at the new rank), and the new alpha is <c>scale · new rank</c>, so the effective scale
/// is unchanged. A module never gets more rank than it had. Every family is read (LoHa and LoKr become LoRA); every
/// module's kept rank, retained Frobenius fraction and relative error are reported.
/// </summary>
public static class LoraResize
{
    /// <summary>Reads, resizes and writes (atomically).</summary>
    /// <param name="options">What to read and write.</param>
    /// <param name="targets">The models to read the file onto; null opens them from <see cref="LoraResizeOptions.Model"/> or the file's family.</param>
    /// <exception cref="ArgumentException">Bad options, a fixed rank above a module's dimension, the output is the input, or the file does not fit the models; the message names the option or the file.</exception>
    public static LoraToolResult Run(LoraResizeOptions options, LoraTargets? targets = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Rank.Validate();
        options.ConvRank?.Validate();
        LowRankSvd.CheckClampQuantile(options.ClampQuantile);
        LoraToolOutput.EnsureNotInput(options.Output, "--out", options.Input);
        using var opened = targets is null ? LoraToolTargets.Open(options.Model, [options.Input]) : null;
        targets ??= opened!.Targets;
        var file = LoraInputs.Read(options.Input, targets);
        using var network = file.Network;
        var (entries, reports) = Resize(network.Entries, options.Rank, options.ConvRank ?? options.Rank, options.ClampQuantile);
        LoraToolOutput.Save(options.Output, targets.Architecture, entries, LoraToolOutput.SaveOptions(file.Metadata, options.SaveDType, Metadata(file, options)));
        return new LoraToolResult(options.Output, reports, []);
    }

    /// <summary>Resizes modules: new LoRA modules on the same layers, with the report of each.</summary>
    /// <param name="modules">The modules to resize (their multipliers are ignored).</param>
    /// <param name="rank">The rule for Linear and 1x1 convolution modules.</param>
    /// <param name="convRank">The rule for 3x3 convolution modules.</param>
    /// <param name="clampQuantile">Clamp quantile of the new factors (1: none).</param>
    public static (IReadOnlyList<LoraNetworkEntry> Entries, IReadOnlyList<LoraModuleReport> Reports) Resize(
        IReadOnlyList<LoraNetworkEntry> modules, LowRankRule rank, LowRankRule convRank, double clampQuantile)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(rank);
        ArgumentNullException.ThrowIfNull(convRank);
        var entries = new List<LoraNetworkEntry>();
        var reports = new List<LoraModuleReport>();
        try
        {
            foreach (var entry in modules)
            {
                // No dispose scope here: the new module's parameters must outlive the iteration.
                using var noGrad = no_grad();
                var source = entry.Module;
                using var delta = source.DeltaWeight().to(ScalarType.Float32);
                var scale = source.Scale is > 0 and < double.PositiveInfinity ? source.Scale : 1.0;
                var rule = source.Target.IsSpatialConv ? convRank : rank;
                // A LoRA's delta has at most its rank; other families' deltas (LoHa, LoKr) may have more.
                int? bound = source is LoraModule ? source.Rank : null;
                using var matrix = LowRankModules.Matrix(delta) / scale;
                using var factors = LowRankSvd.Factor(matrix, rule, clampQuantile, entry.Name, bound);
                var module = LowRankModules.Create(source.Target, factors, scale);
                entries.Add(entry with { Module = module });
                using var written = module.DeltaWeight();
                reports.Add(new LoraModuleReport(entry.Name, source.Rank, factors.Rank, factors.RetainedFrobenius, LowRankSvd.RelativeError(delta, written)));
            }
        }
        catch
        {
            entries.ForEach(e => e.Module.Dispose());
            throw;
        }

        return (entries, reports);
    }

    private static Dictionary<string, string> Metadata(LoraFile file, LoraResizeOptions options)
    {
        var rule = options.Rank;
        var what = rule.IsDynamic
            ? string.Create(CultureInfo.InvariantCulture, $"dynamic resize with {LowRankRule.MethodName(rule.Method)} {rule.Parameter}, at most rank {rule.Rank}")
            : string.Create(CultureInfo.InvariantCulture, $"resized to rank {rule.Rank}");
        if (options.ConvRank is { } conv)
        {
            what += string.Create(CultureInfo.InvariantCulture, $" (3x3 convolutions: {(conv.IsDynamic ? $"{LowRankRule.MethodName(conv.Method)} {conv.Parameter}, at most rank {conv.Rank}" : $"rank {conv.Rank}")})");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_training_comment"] = file.Metadata.TryGetValue("ss_training_comment", out var comment) && comment.Length > 0 && comment != "None" ? $"{what}; {comment}" : what,
        };
        if (rule.IsDynamic || options.ConvRank?.IsDynamic == true)
        {
            metadata["ss_network_dim"] = "Dynamic";
            metadata["ss_network_alpha"] = "Dynamic";
        }

        return metadata;
    }
}
