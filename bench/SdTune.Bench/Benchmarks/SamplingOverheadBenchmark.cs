using System.Globalization;
using SdTune.Bench.Infrastructure;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Pipelines;
using Spectre.Console;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// Time per sampling step of the generation pipeline against the time of its UNet forward passes alone (both
/// measured in the same run): the difference is the pipeline's overhead (guidance, sampler maths, scheduling,
/// conditioning lookup). Run for a tiny model and for the full-size SD 1.5 architecture at 512×512.
/// </summary>
internal static class SamplingOverheadBenchmark
{
    public static int Run(bool includeFullSize)
    {
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 130);
        var table = new Table().Title("Sampling step time vs UNet forward time (CPU, Euler a, CFG 7, batch 1)")
            .AddColumns("model", "size", "steps", "sampling (s/step)", "UNet (s/step)", "overhead", "target ≤ 5%");
        foreach (var (name, build, size, steps) in Cases(includeFullSize))
        {
            AnsiConsole.MarkupLine($"[grey]building {name}...[/]");
            using var model = build();
            using var pipeline = new StableDiffusionPipeline(model);
            var request = new GenerationRequest { Prompt = "a photo of a red circle on a blue background", NegativePrompt = "blurry", Steps = steps, Seed = 1, Width = size, Height = size };
            using (pipeline.Generate(request with { Steps = 2 }))
            {
                // Warm-up: JIT, allocator, thread pools.
            }

            using var result = pipeline.Generate(request);
            var perStep = result.Sampling.TotalSeconds / steps;
            var unetPerStep = result.Unet.TotalSeconds / steps;
            var overhead = (perStep - unetPerStep) / perStep;
            table.AddRow(name, $"{size}x{size}", steps.ToString(CultureInfo.InvariantCulture), F(perStep, 4), F(unetPerStep, 4), $"{overhead * 100:F1}%", overhead <= 0.05 ? "[green]yes[/]" : "[red]no[/]");
        }

        AnsiConsole.Write(table);
        return 0;
    }

    private static IEnumerable<(string Name, Func<StableDiffusionModel> Build, int Size, int Steps)> Cases(bool includeFullSize)
    {
        yield return ("tiny SD1 (bench-sized)", Tiny, 64, 20);
        if (includeFullSize)
        {
            yield return ("SD 1.5 (random weights)", FullSizeSd15, 512, 3);
        }
    }

    private static StableDiffusionModel Tiny()
    {
        var unet = new UNet2DConditionConfig
        {
            SampleSize = 32,
            BlockOutChannels = [64, 128],
            LayersPerBlock = [2, 2],
            DownBlockTypes = [UNet2DConditionConfig.CrossAttnDownBlock, UNet2DConditionConfig.PlainDownBlock],
            UpBlockTypes = [UNet2DConditionConfig.PlainUpBlock, UNet2DConditionConfig.CrossAttnUpBlock],
            CrossAttentionDim = [64, 64],
            AttentionHeadDim = [4, 4],
        };
        var vae = StableDiffusionPresets.Sd15.Vae with { BlockOutChannels = [32, 64], LayersPerBlock = 1 };
        var text = ClipTextConfig.ClipL with { HiddenSize = 64, NumAttentionHeads = 2, IntermediateSize = 256, NumHiddenLayers = 4 };
        return RandomModels.Create(unet, vae, text);
    }

    private static StableDiffusionModel FullSizeSd15() => RandomModels.Create(StableDiffusionPresets.Sd15);

    private static string F(double value, int digits) => value.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
