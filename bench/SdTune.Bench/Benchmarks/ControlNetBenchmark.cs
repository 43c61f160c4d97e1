using System.Globalization;
using SdTune.Bench.Infrastructure;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Control;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Pipelines.Control;
using SdTune.Runtime;
using SdTune.Training;
using SkiaSharp;
using Spectre.Console;
using static TorchSharp.torch;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// The full-size SD 1.5 ControlNet at 512x512 with random weights (built on the meta device, no weights loaded), on
/// CPU: the time of a sampling step with one ControlNet against the same generation without one (same run, same
/// model), and the step time and peak memory of ControlNet training with gradient checkpointing and bf16 frozen
/// weights (the ControlNet itself trains in float32), with AdamW and with Adafactor (no first moment, factored second
/// moments), each training setting in its own process. <c>--steps 0</c> measures memory only (one step, no timing).
/// </summary>
internal static class ControlNetBenchmark
{
    private const int Resolution = 512;
    private const double TargetGigabytes = 8.0;

    public static int Run(string work, int samplingSteps, int trainingSteps, bool withBaseline, bool skipSampling, bool skipTraining)
    {
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 130);
        Directory.CreateDirectory(work);
        if (!skipSampling)
        {
            AnsiConsole.Write(Sampling(work, samplingSteps));
        }

        if (!skipTraining)
        {
            AnsiConsole.Write(Training(work, trainingSteps, withBaseline));
        }

        return 0;
    }

    /// <summary>Child: ControlNet training steps on SD 1.5 with random weights; reports seconds per step (after the first) and peak RSS.</summary>
    public static void Child(bool checkpointing, bool bf16, int steps, string work, string optimizer)
    {
        using var model = RandomModels.Create(StableDiffusionPresets.Sd15, bf16 ? ScalarType.BFloat16 : ScalarType.Float32, seed: 3);
        var data = BenchTrainingData.Write(Path.Combine(work, $"controlnet-train-{Resolution}", "1_subject"), Resolution, conditioning: true);
        var config = TrainingConfig.Parse("", "benchmark").WithOverrides(
        [
            "method=controlnet", "pretrained_model=sd15-random-weights", $"output_dir={Path.Combine(work, "out-controlnet")}", "output_name=bench",
            $"train_data_dir={data}", "caption_extension=.txt", $"resolution={Resolution}", "learning_rate=1e-5", "save_precision=fp16",
            $"max_train_steps={steps + 1}", "cache_latents=true", $"gradient_checkpointing={checkpointing.ToString().ToLowerInvariant()}",
            $"mixed_precision={(bf16 ? "bf16" : "no")}", $"optimizer_type={optimizer}", "seed=1",
        ]);
        using var timeline = TimedTraining.TimelineIfAsked();
        var perStep = TimedTraining.SecondsPerStep(config, model, timeline);
        ChildRun.Report(perStep, ProcessMemory.PeakResidentBytes());
    }

    private static Table Sampling(string work, int steps)
    {
        var table = new Table().Title($"SD 1.5 sampling at {Resolution}x{Resolution}, random weights (CPU, {TorchThreads.Current} threads, default sampler, CFG 7, batch 1, {steps} steps after a 1-step warm-up)")
            .AddColumns("controls", "sampling (s/step)", "UNet (s/step)", "vs no control");
        AnsiConsole.MarkupLine("[grey]building SD 1.5 and a ControlNet with random weights...[/]");
        using var model = RandomModels.Create(StableDiffusionPresets.Sd15);
        var folder = Path.Combine(work, "controlnet-sd15-random");
        using (var controlNet = RandomModels.ControlNet(model.Unet.Config))
        {
            ControlNetFiles.SaveFolder(controlNet, folder, new ModelSaveOptions { DType = ScalarType.Float16 });
        }

        using var condition = new SKBitmap(Resolution, Resolution);
        condition.Erase(SKColors.Black);
        using var pipeline = new StableDiffusionPipeline(model);
        var plain = new GenerationRequest { Prompt = "a photo of a red circle on a blue background", NegativePrompt = "blurry", Steps = steps, Seed = 1, Width = Resolution, Height = Resolution };
        var controlled = plain with { Controls = [new ControlRequest { Type = ControlType.ControlNet, ModelPath = folder, Image = condition }] };
        double? baseline = null;
        foreach (var (label, request) in new[] { ("none", plain), ("one ControlNet", controlled) })
        {
            AnsiConsole.MarkupLine($"[grey]sampling with {label}...[/]");
            using (pipeline.Generate(request with { Steps = 1 }))
            {
                // Warm-up: allocator, thread pools, the ControlNet's first load.
            }

            using var result = pipeline.Generate(request);
            var perStep = result.Sampling.TotalSeconds / steps;
            baseline ??= perStep;
            table.AddRow(label, F(perStep), F(result.Unet.TotalSeconds / steps), baseline == perStep ? "–" : $"{perStep / baseline.Value:F2}x");
        }

        return table;
    }

    private static Table Training(string work, int steps, bool withBaseline)
    {
        var table = new Table().Title($"SD 1.5 ControlNet training at {Resolution}x{Resolution}, random weights (CPU, batch 1, cached latents, ControlNet in float32, {steps} step(s) after one warm-up, each setting in its own process)")
            .AddColumns("gradient checkpointing", "frozen weights", "optimizer", "s/step", "peak RSS (GB)", $"target ≤ {TargetGigabytes} GB");
        var settings = new List<(bool Checkpointing, bool Bf16, string Optimizer)> { (true, true, "AdamW"), (true, true, "Adafactor") };
        if (withBaseline)
        {
            settings.Insert(0, (false, false, "AdamW"));
        }

        foreach (var (checkpointing, bf16, optimizer) in settings)
        {
            AnsiConsole.MarkupLine($"[grey]ControlNet training, checkpointing={checkpointing} bf16={bf16} {optimizer}...[/]");
            var (seconds, peak) = ChildRun.Measure("controlnet-train", checkpointing.ToString(), bf16.ToString(), steps.ToString(CultureInfo.InvariantCulture), work, optimizer);
            var both = checkpointing && bf16;
            table.AddRow(checkpointing ? "on" : "off", bf16 ? "bf16" : "fp32", optimizer, steps > 0 ? F(seconds) : "–", F(peak / 1e9),
                both ? (peak / 1e9 <= TargetGigabytes ? "[green]yes[/]" : "[red]no[/]") : "");
        }

        return table;
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
