using System.Diagnostics;
using System.Globalization;
using SdTune.Bench.Infrastructure;
using SdTune.Runtime;
using SdTune.Models;
using SdTune.Training;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// LoRA training step time and peak memory on the full-size architectures (random weights, batch 1, cached latents),
/// with and without gradient checkpointing and bf16 frozen weights. Each configuration runs in its own process.
/// </summary>
internal static class LoraTrainingBenchmark
{
    private static readonly (bool Checkpointing, bool Bf16)[] Settings = [(false, false), (true, false), (false, true), (true, true)];

    public static int Run(string work, IReadOnlyList<string> models, int steps, bool savingsOnly = false)
    {
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 130);
        var table = new Table().Title($"LoRA training (rank 16, UNet + text encoder, batch 1, {steps} steps after one warm-up, CPU)")
            .AddColumns("model", "resolution", "gradient checkpointing", "frozen weights", "s/step", "peak RSS (GB)", "target");
        foreach (var name in models)
        {
            var (resolution, target) = name == "sdxl-base" ? (1024, 12.0) : (512, 6.0);
            foreach (var (checkpointing, bf16) in Settings.Where(s => !savingsOnly || (s.Checkpointing && s.Bf16)))
            {
                AnsiConsole.MarkupLine($"[grey]{name} checkpointing={checkpointing} bf16={bf16}...[/]");
                var (seconds, peak) = ChildRun.Measure("train", name, checkpointing.ToString(), bf16.ToString(), steps.ToString(CultureInfo.InvariantCulture), work);
                var both = checkpointing && bf16;
                table.AddRow(name, $"{resolution}", checkpointing ? "on" : "off", bf16 ? "bf16" : "fp32", F(seconds), F(peak / 1e9),
                    both ? (peak / 1e9 <= target ? $"[green]≤ {target} GB: yes[/]" : $"[red]≤ {target} GB: no[/]") : "");
            }
        }

        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Child: train a few steps and report seconds per step (after the first) and peak RSS.</summary>
    public static void Child(string name, bool checkpointing, bool bf16, int steps, string work)
    {
        var preset = StableDiffusionPresets.Get(name);
        var xl = preset.TextEncoder2 is not null;
        var resolution = xl ? 1024 : 512;
        var dtype = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using var model = RandomModels.Create(preset, dtype, seed: 3);
        var data = BenchTrainingData.Write(Path.Combine(work, $"train-{resolution}", "1_subject"), resolution);
        var config = TrainingConfig.Parse("", "benchmark").WithOverrides(
        [
            "method=lora", $"pretrained_model={name}-random-weights", $"output_dir={Path.Combine(work, "out-" + name)}", "output_name=bench", $"train_data_dir={data}",
            "caption_extension=.txt", $"resolution={resolution}", "network_dim=16", "network_alpha=16", "learning_rate=1e-4",
            $"max_train_steps={steps + 1}", "cache_latents=true", $"gradient_checkpointing={checkpointing.ToString().ToLowerInvariant()}",
            $"mixed_precision={(bf16 ? "bf16" : "no")}", "seed=1",
        ]);
        using var timeline = TimedTraining.TimelineIfAsked();
        var perStep = TimedTraining.SecondsPerStep(config, model, timeline);
        ChildRun.Report(perStep, ProcessMemory.PeakResidentBytes());
    }

    /// <summary>Child: peak memory of building the model and encoding one training image with its VAE (bf16), nothing else.</summary>
    public static void ChildVaeEncode(string name)
    {
        var preset = StableDiffusionPresets.Get(name);
        var resolution = preset.TextEncoder2 is not null ? 1024 : 512;
        using var model = RandomModels.Create(preset, ScalarType.BFloat16, seed: 3);
        var afterBuild = ProcessMemory.PeakResidentBytes();
        model.Vae.to(ScalarType.BFloat16);
        var clock = Stopwatch.StartNew();
        using (no_grad())
        using (var image = rand(1, 3, resolution, resolution, dtype: ScalarType.BFloat16) * 2 - 1)
        using (var distribution = model.Vae.Encode(image))
        {
        }

        Console.Error.WriteLine($"after build {afterBuild / 1e9:F2} GB, after VAE encode {ProcessMemory.PeakResidentBytes() / 1e9:F2} GB");
        ChildRun.Report(clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentBytes());
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
