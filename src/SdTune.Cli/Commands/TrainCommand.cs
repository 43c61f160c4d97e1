using System.CommandLine;
using System.Globalization;
using SdTune.Checkpoints;
using SdTune.Cli.Errors;
using SdTune.Cli.Output;
using SdTune.Training;
using Spectre.Console;

namespace SdTune.Cli.Commands;

/// <summary>
/// <c>sdtune train --config FILE.toml [key=value ...]</c>, and <c>sdtune train lora|dreambooth</c> with the common
/// settings as flags. Flags and <c>key=value</c> overrides are applied on top of the file (if any) and validated the
/// same way. Ctrl+C stops after the current step (writing a state folder with <c>save_state</c>).
/// </summary>
internal static class TrainCommand
{
    /// <summary>Flags of the method subcommands: option name → config key.</summary>
    private static readonly (string Option, string Key, string Description)[] CommonFlags =
    [
        ("--model", "pretrained_model", "Base model: diffusers folder or single-file checkpoint."),
        ("--train-data-dir", "train_data_dir", "Training images in N_concept folders (kohya layout)."),
        ("--reg-data-dir", "reg_data_dir", "Regularisation (class) images in N_concept folders."),
        ("--dataset-config", "dataset_config", "A kohya dataset TOML instead of the folders."),
        ("--output-dir", "output_dir", "Where outputs, states and samples go."),
        ("--output-name", "output_name", "Base name of the outputs."),
        ("--resolution", "resolution", "Training resolution (e.g. 512 or 512,768)."),
        ("--batch-size", "train_batch_size", "Batch size."),
        ("--max-train-steps", "max_train_steps", "Steps to train."),
        ("--learning-rate", "learning_rate", "Learning rate."),
        ("--optimizer", "optimizer_type", "AdamW, Prodigy, Adafactor or Lion."),
        ("--lr-scheduler", "lr_scheduler", "constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial."),
        ("--mixed-precision", "mixed_precision", "no, bf16 or fp16 (frozen weights in that type)."),
        ("--seed", "seed", "Seed (CPU runs are reproducible)."),
        ("--save-every-n-steps", "save_every_n_steps", "Save every N steps."),
        ("--sample-prompts", "sample_prompts", "Prompts file for sample images (--n --w --h --s --l --d options per line)."),
        ("--sample-every-n-steps", "sample_every_n_steps", "Sample every N steps."),
    ];

    private static readonly (string Option, string Key, string Description)[] LoraFlags =
    [
        ("--network-dim", "network_dim", "LoRA rank."),
        ("--network-alpha", "network_alpha", "LoRA alpha (scale alpha/rank)."),
        ("--network-weights", "network_weights", "Continue from an existing LoRA file."),
    ];

    private static readonly (string Option, string Key, string Description)[] DreamBoothFlags =
    [
        ("--instance-data-dir", "instance_data_dir", "The subject's images."),
        ("--instance-prompt", "instance_prompt", "Prompt of the subject, e.g. \"a photo of sks dog\"."),
        ("--class-data-dir", "class_data_dir", "Class images (generated with the base model when too few)."),
        ("--class-prompt", "class_prompt", "Prompt of the class, e.g. \"a photo of dog\"."),
        ("--num-class-images", "num_class_images", "Class images wanted for prior preservation."),
        ("--prior-loss-weight", "prior_loss_weight", "Weight of the prior-preservation loss."),
    ];

    public static Command Create()
    {
        var command = new Command("train", "Train a LoRA/LoCon or a DreamBooth model (sd-scripts key names; see README).");
        Configure(command, method: null, []);
        command.Add(Subcommand("lora", "Train a LoRA (LoCon with network_args conv_dim=...).", "lora", LoraFlags));
        command.Add(Subcommand("dreambooth", "DreamBooth: fine-tune the UNet (and optionally the text encoder) with prior preservation.", "dreambooth", DreamBoothFlags));
        return command;
    }

    private static Command Subcommand(string name, string description, string method, (string Option, string Key, string Description)[] extra)
    {
        var command = new Command(name, description);
        Configure(command, method, [.. CommonFlags, .. extra]);
        return command;
    }

    private static void Configure(Command command, string? method, (string Option, string Key, string Description)[] flags)
    {
        var config = new Option<string?>("--config") { Description = "The training configuration (TOML, sd-scripts key names)." };
        var overrides = new Argument<string[]>("overrides") { Description = "key=value settings applied on top.", Arity = ArgumentArity.ZeroOrMore, HelpName = "key=value" };
        overrides.Validators.Add(result =>
        {
            // An option this command does not know is not an override: report it as the unknown option it is.
            if (result.Tokens.FirstOrDefault(t => ParseErrorMessage.LooksLikeOption(t.Value)) is { } token)
            {
                result.AddError($"unknown option '{token.Value}'");
            }
        });
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and print the resolved configuration without training." };
        var sampler = new Option<string>("--sample-sampler") { Description = "Sampler of sample and class images.", DefaultValueFactory = _ => "Euler a" };
        command.Add(config);
        command.Add(overrides);
        command.Add(dryRun);
        command.Add(sampler);
        var flagOptions = flags.Select(f => (Option: new Option<string?>(f.Option) { Description = f.Description }, f.Key)).ToList();
        foreach (var (option, _) in flagOptions)
        {
            command.Add(option);
        }

        command.SetAction(parse =>
        {
            var path = parse.GetValue(config);
            if (path is null && method is null)
            {
                throw new ArgumentException("sdtune train needs --config FILE.toml, or a method: sdtune train lora|dreambooth with flags.");
            }

            var settings = new List<string>();
            if (method is not null)
            {
                settings.Add($"method={method}");
            }

            settings.AddRange(flagOptions.Where(f => parse.GetValue(f.Option) is not null).Select(f => $"{f.Key}={parse.GetValue(f.Option)}"));
            settings.AddRange(parse.GetValue(overrides) ?? []);
            var resolved = (path is null ? TrainingConfig.Parse("", "command line") : TrainingConfig.Load(path)).WithOverrides(settings);
            resolved.Validate();
            if (parse.GetValue(dryRun))
            {
                return DryRun(resolved);
            }

            return Train(resolved, parse.GetValue(sampler)!);
        });
    }

    /// <summary>Prints the configuration as the run would use it: resolved against the model (read, not trained) and the dataset.</summary>
    private static int DryRun(TrainingConfig config)
    {
        using var model = StableDiffusionModels.Load(config.PretrainedModel!);
        var resolved = config.Resolve(model);
        foreach (var warning in resolved.Warnings)
        {
            Console.Error.WriteLine($"warning: {warning}");
        }

        Console.Write(resolved.ToToml());
        return 0;
    }

    private static int Train(TrainingConfig config, string sampler)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var result = StepProgress.Run("loading", progress => new Trainer(config, new TrainerServices
            {
                Progress = new ProgressRenderer(p => progress.Report(p.Step, p.TotalSteps, string.Create(CultureInfo.InvariantCulture,
                    $"epoch {p.Epoch}/{p.TotalEpochs} step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} (avg {p.AverageLoss:F4}) {p.StepsPerSecond:F2} it/s ETA {p.Remaining:hh\\:mm\\:ss}"))),
                Log = progress.Log,
                ImageGenerator = new PipelineSampleImageGenerator(sampler),
            }).Run(cancel.Token));
            foreach (var output in result.Outputs)
            {
                Console.WriteLine(output);
            }

            foreach (var state in result.StateFolders)
            {
                CliConsole.Error().MarkupLine($"state [green]{Markup.Escape(state)}[/]");
            }

            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Reports synchronously, on the training thread.</summary>
    private sealed class ProgressRenderer(Action<TrainingProgress> render) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => render(value);
    }
}
