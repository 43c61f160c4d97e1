using SdTune.Bench.Infrastructure;
using SdTune.Runtime;
using SdTune.Models;
using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// Where a UNet training step's memory goes: builds a full-size UNet with bf16 weights and gradient checkpointing,
/// runs one forward and backward at the training resolution (only conv_in's weight trainable, so every activation
/// gradient is computed) and prints resident memory and its peak after each phase.
/// </summary>
internal static class UnetStepMemoryProbe
{
    public static void Run(string name, bool checkpointing)
    {
        var preset = StableDiffusionPresets.Get(name);
        var xl = preset.TextEncoder2 is not null;
        var latent = (xl ? 1024 : 512) / 8;
        using var model = RandomModels.Create(preset, ScalarType.BFloat16, seed: 3);
        model.Vae.Dispose();
        Report("model built");
        var unet = model.Unet;
        foreach (var p in unet.parameters())
        {
            p.requires_grad = false;
        }

        unet.GradientCheckpointing = checkpointing;
        unet.train();
        var trainable = unet.named_parameters().First(p => p.name == "conv_in.weight").parameter;
        trainable.requires_grad = true;
        using var sample = randn(1, 4, latent, latent, dtype: ScalarType.BFloat16);
        using var context = randn(1, 77, preset.Unet.CrossAttentionDim[0], dtype: ScalarType.BFloat16);
        UNetAddedConditions? added = xl ? new UNetAddedConditions(randn(1, 1280, dtype: ScalarType.BFloat16), tensor(new float[] { 1024, 1024, 0, 0, 1024, 1024 }).reshape(1, 6)) : null;
        using var t = tensor(new long[] { 500 });
        Report("inputs ready");
        using (var output = unet.forward(sample, t, context, added))
        {
            Report("forward done");
            using var loss = output.to(ScalarType.Float32).pow(2).mean();
            loss.backward();
            Report("backward done");
        }

        GC.Collect();
        Report("after step");
    }

    private static void Report(string phase) =>
        Console.WriteLine($"{phase,-16} rss {ProcessMemory.ResidentBytes() / 1e9:F2} GB, peak {ProcessMemory.PeakResidentBytes() / 1e9:F2} GB");
}
