using SdTune.Adapters;
using SdTune.Checkpoints;
using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>What <see cref="LoraBake"/> reads and writes.</summary>
public sealed record LoraBakeOptions
{
    /// <summary>The model (any format <see cref="StableDiffusionModels.Load"/> reads).</summary>
    public required string Model { get; init; }

    /// <summary>The LoRA file (any family the reader knows).</summary>
    public required string Lora { get; init; }

    /// <summary>The file or folder to write; never an input.</summary>
    public required string Output { get; init; }

    /// <summary>The multiplier of the UNet modules (and of the text-encoder modules unless <see cref="TextEncoderWeight"/> is set).</summary>
    public double Weight { get; init; } = 1.0;

    /// <summary>The multiplier of the text-encoder modules; null uses <see cref="Weight"/>.</summary>
    public double? TextEncoderWeight { get; init; }

    /// <summary>Per-block weights (<see cref="LoraBlockWeights"/>: 12, 17, 20 or 26 values, as <c>generate</c> takes them); null for none.</summary>
    public IReadOnlyList<double>? BlockWeights { get; init; }

    /// <summary>How to write the model; null decides by the output: a path with a <c>.safetensors</c>, <c>.ckpt</c>, <c>.pt</c> or <c>.pth</c> extension is a single file, anything else a diffusers folder.</summary>
    public BakedModelLayout? Layout { get; init; }

    /// <summary>Type of the written weights; null writes them as loaded (float32).</summary>
    public ScalarType? SaveDType { get; init; }
}

/// <summary>
/// Bakes a LoRA into a checkpoint: the model is loaded as the loaders do, every module's
/// <c>multiplier · ΔW</c> is added to its layer's weight (with per-block weights as <c>generate</c> applies them), and
/// the model is written whole, as a single file or a diffusers folder. The result computes what the model with the LoRA
/// applied through hooks computes.
/// </summary>
public static class LoraBake
{
    private static readonly string[] SingleFileExtensions = [".safetensors", ".ckpt", ".pt", ".pth"];

    /// <summary>Loads, bakes and writes (atomically).</summary>
    /// <exception cref="ArgumentException">The output is an input, the LoRA is for another model (family, or tensors that fit no layer), or bad block weights; the message names the file or option.</exception>
    public static LoraToolResult Run(LoraBakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        LoraToolOutput.EnsureNotInput(options.Output, "--out", options.Model, options.Lora);
        var layout = options.Layout ?? LayoutOf(options.Output);
        using var model = StableDiffusionModels.Load(options.Model);
        using (Bake(model, options))
        {
            var saveOptions = new ModelSaveOptions { DType = options.SaveDType };
            if (layout == BakedModelLayout.Diffusers)
            {
                DiffusersPipelineFormat.Save(model, options.Output, saveOptions);
            }
            else
            {
                SingleFileFormat.Save(model, options.Output, saveOptions);
            }
        }

        return new LoraToolResult(options.Output, [], []);
    }

    /// <summary>
    /// Merges the LoRA of <paramref name="options"/> into <paramref name="model"/>'s weights. Disposing the result takes
    /// it out again (the weights return to the original up to float rounding).
    /// </summary>
    /// <exception cref="ArgumentException">The LoRA is for another model; the message names the file.</exception>
    public static AppliedLora Bake(StableDiffusionModel model, LoraBakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var targets = new LoraTargets(model.Unet, model.TextEncoder, model.TextEncoder2);
        LoraInputs.CheckFamily(options.Lora, targets);
        var applied = LoraApplier.Apply(targets, options.Lora, options.TextEncoderWeight ?? options.Weight, options.Weight, LoraApplyMode.Merge, options.BlockWeights);
        try
        {
            LoraInputs.CheckMatched(applied.File, targets);
            return applied;
        }
        catch
        {
            applied.Dispose();
            throw;
        }
    }

    /// <summary>The layout a path asks for: a single file for a checkpoint extension, else a diffusers folder.</summary>
    public static BakedModelLayout LayoutOf(string output) =>
        SingleFileExtensions.Contains(Path.GetExtension(output), StringComparer.OrdinalIgnoreCase) ? BakedModelLayout.SingleFile : BakedModelLayout.Diffusers;
}
