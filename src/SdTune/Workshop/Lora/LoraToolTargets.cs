using SdTune.Adapters;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>
/// The models LoRA files are read onto by the tools that only read and write adapter files (merge, resize): either a
/// real model, or the published family's models built without weights. The latter are built on the meta device (no
/// memory), and every Linear/Conv2d weight is then replaced by a CPU tensor of the right shape backed by one element
/// (all strides 0): adapters read onto them live on the CPU and know their layer's geometry, while a full-size SDXL
/// model costs nothing. Such models map names and shapes only; they cannot run.
/// </summary>
public sealed class LoraToolTargets : IDisposable
{
    private readonly List<IDisposable> owned;

    private LoraToolTargets(LoraTargets targets, IEnumerable<IDisposable> owned)
    {
        Targets = targets;
        this.owned = [.. owned];
    }

    /// <summary>The models.</summary>
    public LoraTargets Targets { get; }

    /// <summary>
    /// The models for <paramref name="loras"/>: the model at <paramref name="modelPath"/> when given (any format
    /// <see cref="StableDiffusionModels.Load"/> reads), else the published family the files are for, without weights.
    /// </summary>
    /// <exception cref="ArgumentException">No model is given and the family of the files cannot be told, or they are for different families; the message names the file.</exception>
    public static LoraToolTargets Open(string? modelPath, IReadOnlyList<string> loras)
    {
        ArgumentNullException.ThrowIfNull(loras);
        if (modelPath is not null)
        {
            var model = StableDiffusionModels.Load(modelPath);
            return new LoraToolTargets(new LoraTargets(model.Unet, model.TextEncoder, model.TextEncoder2), [model]);
        }

        SdArchitecture? family = null;
        foreach (var path in loras)
        {
            var architecture = LoraInputs.ArchitectureOf(path)
                ?? throw new ArgumentException($"{path}: cannot tell which model family (SD 1.x, SD 2.x, SDXL) the LoRA is for; give the base model with --model.");
            family ??= architecture;
            LoraInputs.CheckArchitecture(path, architecture, family.Value, loras[0]);
        }

        return ShapeOnly(family ?? throw new ArgumentException("No LoRA file was given."));
    }

    /// <summary>The published family's UNet and text encoders, without weights (see the class summary).</summary>
    /// <exception cref="ArgumentException">The family is not supported.</exception>
    public static LoraToolTargets ShapeOnly(SdArchitecture architecture)
    {
        var preset = architecture switch
        {
            SdArchitecture.SD1 => StableDiffusionPresets.Sd15,
            SdArchitecture.SD2 => StableDiffusionPresets.Sd21V,
            SdArchitecture.SdxlBase => StableDiffusionPresets.SdxlBase,
            _ => throw new ArgumentException($"LoRA tools do not support {architecture} models."),
        };
        using var build = new BuildScope();
        var unet = build.Own(ModuleMaterializer.OnMeta(() => new UNet2DConditionModel(preset.Unet)));
        ClipTextEncoder text = build.Own(ModuleMaterializer.OnMeta(() => new ClipTextModel(preset.TextEncoder)));
        ClipTextEncoder? text2 = preset.TextEncoder2 is { } config ? build.Own(ModuleMaterializer.OnMeta(() => new ClipTextModelWithProjection(config))) : null;
        foreach (var model in new nn.Module?[] { unet, text, text2 }.OfType<nn.Module>())
        {
            GiveShapeOnlyWeights(model);
        }

        var result = new LoraToolTargets(new LoraTargets(unet, text, text2), new IDisposable?[] { unet, text, text2 }.OfType<IDisposable>());
        build.Complete();
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        owned.ForEach(o => o.Dispose());
        owned.Clear();
    }

    private static void GiveShapeOnlyWeights(nn.Module model)
    {
        foreach (var (_, layer) in LoraNetwork.AllLayers(model).ToList())
        {
            var shape = layer.WeightShape;
            var standIn = new Parameter(empty_strided(shape, new long[shape.Length], ScalarType.Float32, CPU), requires_grad: false);
            switch (layer.Module)
            {
                case Linear linear:
                    linear.weight = standIn;
                    break;
                case Conv2d conv:
                    conv.weight = standIn;
                    break;
            }
        }
    }
}
