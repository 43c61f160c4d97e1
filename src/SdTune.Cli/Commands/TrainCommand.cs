using System.CommandLine;
using System.Globalization;
using SdTune.Adapters;
using SdTune.Checkpoints;
using SdTune.Cli.Errors;
using SdTune.Cli.Output;
using SdTune.Training;
using SdTune.Training.Methods;
using Spectre.Console;

namespace SdTune.Cli.Commands;

/// <summary>
/// <c>sdtune train --config FILE.toml [key=value ...]</c>, and <c>sdtune train &lt;method&gt;</c> for every registered
/// method, with the trainer's common settings and the method's own keys as flags (generated from their declarations).
/// Flags and <c>key=value</c> overrides are applied on top of the file (if any) and validated the same way. Ctrl+C stops after the current step (writing a state folder with <c>save_state</c>).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Train with a method (sd-scripts key names; see README): " + string.Join(", ", TrainingMethods.All.Select(m => m.Name)) + ".");
        Configure(command, method: null, []);
        foreach (var method in TrainingMethods.All)
        {
            var subcommand = new Command(method.Name, method.Summary);
            Configure(subcommand, method.Name, Flags(method));
            command.Add(subcommand);
        }

        // LyCORIS shortcuts: `sdtune train loha` is `sdtune train lora` with algo=loha in network_args.
        var lora = TrainingMethods.Get(LoraMethod.Definition.Name);
        foreach (var algorithm in AdapterAlgorithms.All.Where(a => a.Name != LoraMethod.Definition.Name))
        {
            var subcommand = new Command(algorithm.Name, $"Train a LyCORIS {algorithm.Name} network: `sdtune train lora` with algo={algorithm.Name} in network_args.");
            Configure(subcommand, lora.Name, Flags(lora), algorithm.Name);
            command.Add(subcommand);
        }

        return command;
    }

    /// <summary>A method subcommand's flags: the trainer's keys that have a flag, then every key of the method.</summary>
    private static IReadOnlyList<TrainingConfigKey> Flags(TrainingMethodDefinition method) =>
        [.. TrainingConfigKeys.Common.Where(k => k.Flag is not null), .. method.Options];

    private static void Configure(Command command, string? method, IReadOnlyList<TrainingConfigKey> flags, string? algorithm = null)
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
        var flagOptions = flags.Select(f => (Option: new Option<string?>(f.Flag!) { Description = f.Help }, Key: f.Name)).ToList();
        foreach (var (option, _) in flagOptions)
        {
            command.Add(option);
        }

        command.SetAction(parse =>
        {
            var path = parse.GetValue(config);
            if (path is null && method is null)
            {
                throw new ArgumentException($"sdtune train needs --config FILE.toml, or a method: sdtune train {string.Join("|", TrainingMethods.Names)} with flags.");
            }

            var settings = new List<string>();
            if (method is not null)
            {
                settings.Add($"method={method}");
            }

            settings.AddRange(flagOptions.Where(f => parse.GetValue(f.Option) is not null).Select(f => $"{f.Key}={parse.GetValue(f.Option)}"));
            settings.AddRange(parse.GetValue(overrides) ?? []);
            var resolved = (path is null ? TrainingConfig.Parse("", "command line") : TrainingConfig.Load(path)).WithOverrides(settings);
            if (algorithm is not null)
            {
                resolved = LoraMethod.WithAlgorithm(resolved, algorithm);
            }

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
                Progress = new TrainingProgressCallback(p => progress.Report(p.Step, p.TotalSteps, string.Create(CultureInfo.InvariantCulture,
                    $"epoch {p.Epoch}/{p.TotalEpochs} step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} (avg {p.AverageLoss:F4}) {p.StepsPerSecond:F2} it/s ETA {p.Remaining:hh\\:mm\\:ss}"))),
                Log = progress.Log,
                ImageGenerator = new PipelineSampleImageGenerator(sampler),
            }).Run(cancel.Token));
            foreach (var output in result.Outputs)
            {
                Console.WriteLine(output);
            }

            if (result.Outputs.Count > 0)
            {
                CliConsole.Error().MarkupLine($"use: {Markup.Escape(string.Format(CultureInfo.InvariantCulture, TrainingMethods.Get(config.Method).Output.Usage, result.Outputs[^1]))}");
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
}
