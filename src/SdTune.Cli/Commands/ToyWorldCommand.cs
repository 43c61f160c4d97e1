using System.CommandLine;
using System.Globalization;
using SdTune.Checkpoints;
using SdTune.Cli.Output;
using SdTune.ToyWorld.Pretraining;
using Spectre.Console;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune toyworld pretrain | evaluate</c>: the toy base model, trained from random weights and measured.</summary>
internal static class ToyWorldCommand
{
    public static Command Create() => new("toyworld", "The toy world's tiny base model: pretrain it from random weights, measure it.")
    {
        Pretrain(),
        Evaluate(),
    };

    private static Command Pretrain()
    {
        var output = new Option<string>("--out") { Description = "The diffusers folder to write (replaced if it exists).", Required = true };
        var minutes = new Option<double?>("--minutes") { Description = "A wall-clock budget for both stages (each stage also stops at its step count); omit to run the step counts, reproducibly." };
        var seed = new Option<long>("--seed") { Description = "Seed of weights, world, batches and noise (default 1).", DefaultValueFactory = _ => new ToyPretrainingOptions().Seed };
        var vaeSteps = new Option<int?>("--vae-steps") { Description = "Most VAE steps." };
        var unetSteps = new Option<int?>("--unet-steps") { Description = "Most UNet + text-encoder steps." };
        var images = new Option<int?>("--images") { Description = "Distinct training pictures." };
        var evaluateEvery = new Option<int?>("--evaluate-every") { Description = "Measure the model every N UNet steps (16 prompts per split, 12 sampling steps)." };
        var evaluate = new Option<bool>("--evaluate") { Description = "Measure the model after training (adds a few minutes)." };
        var from = new Option<string?>("--from") { Description = "Continue from this toy base model (diffusers folder or single file): keep its VAE, train its UNet and text encoder on." };
        var patterned = new Option<double?>("--patterned-share") { Description = "Fraction of the UNet's pictures filled with a pattern (stripes, dots, checks, halves; striped stars never); default 0." };
        var command = new Command("pretrain", "Pretrain the toy base model (VAE, then UNet + text encoder) and save it as a diffusers folder with pretraining_report.json.")
        {
            output, minutes, seed, vaeSteps, unetSteps, images, evaluateEvery, evaluate, from, patterned,
        };
        command.SetAction(parse =>
        {
            var defaults = new ToyPretrainingOptions();
            var options = defaults with
            {
                Seed = parse.GetValue(seed),
                Minutes = parse.GetValue(minutes),
                VaeSteps = parse.GetValue(vaeSteps) ?? defaults.VaeSteps,
                DiffusionSteps = parse.GetValue(unetSteps) ?? defaults.DiffusionSteps,
                TrainImages = parse.GetValue(images) ?? defaults.TrainImages,
                EvaluateEvery = parse.GetValue(evaluateEvery),
                ContinueFrom = parse.GetValue(from),
                PatternedShare = parse.GetValue(patterned) ?? defaults.PatternedShare,
            };
            var folder = parse.GetRequiredValue(output);
            ToyPretraining.Run(folder, options, Console.WriteLine);
            if (parse.GetValue(evaluate))
            {
                using var model = StableDiffusionModels.Load(folder);
                Print(ToyBaseEvaluation.Evaluate(model, log: Console.WriteLine));
            }

            return 0;
        });
        return command;
    }

    private static Command Evaluate()
    {
        var model = new Option<string>("--model") { Description = "A toy base model (diffusers folder or single file).", Required = true };
        var prompts = new Option<int>("--prompts") { Description = "Prompts per set.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Sampling steps.", DefaultValueFactory = _ => 20 };
        var cfg = new Option<double>("--cfg") { Description = "Classifier-free guidance scale.", DefaultValueFactory = _ => 6.0 };
        var sampler = new Option<string>("--sampler") { Description = "Sampler name.", DefaultValueFactory = _ => "DPM++ 2M" };
        var command = new Command("evaluate", "Generate pictures for held-out and train-split prompts (solid, and patterned shapes) and score them with the toy evaluator.")
        {
            model, prompts, steps, cfg, sampler,
        };
        command.SetAction(parse =>
        {
            using var loaded = StableDiffusionModels.Load(parse.GetRequiredValue(model));
            var options = new ToyEvaluationOptions
            {
                Prompts = parse.GetValue(prompts),
                Steps = parse.GetValue(steps),
                CfgScale = parse.GetValue(cfg),
                Sampler = parse.GetValue(sampler)!,
            };
            Print(ToyBaseEvaluation.Evaluate(loaded, options));
            return 0;
        });
        return command;
    }

    private static void Print(IReadOnlyList<ToyAccuracy> results)
    {
        var table = new Table().AddColumns("prompts", "n", "shape", "colour", "background", "all three", "size", "position", "fill");
        static string P(double v) => v.ToString("P1", CultureInfo.InvariantCulture);
        foreach (var r in results)
        {
            table.AddRow(r.Split, r.Count.ToString(CultureInfo.InvariantCulture), P(r.Shape), P(r.Color), P(r.Background), P(r.ShapeColorBackground), P(r.Size), P(r.Position), P(r.Fill));
        }

        CliConsole.Out().Write(table);
    }
}
