using System.CommandLine;
using System.Globalization;
using SdTune.Training;
using Spectre.Console;

namespace SdTune.Cli.Commands;

/// <summary>
/// <c>sdtune train CONFIG.toml [key=value ...] [--dry-run]</c>: trains as the configuration says, with kohya-style
/// <c>key=value</c> overrides. Ctrl+C stops after the current step (writing a state folder with <c>save_state</c>).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Argument<string>("config") { Description = "The training configuration (TOML, sd-scripts key names)." };
        var overrides = new Argument<string[]>("overrides") { Description = "key=value settings applied on top of the file.", Arity = ArgumentArity.ZeroOrMore };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and print the resolved configuration without training." };
        var command = new Command("train", "Train a LoRA/LoCon or a DreamBooth model from a configuration file.")
        {
            config,
            overrides,
            dryRun,
        };
        command.SetAction(parse =>
        {
            var resolved = TrainingConfig.Load(parse.GetRequiredValue(config)).WithOverrides(parse.GetValue(overrides) ?? []);
            resolved.Validate();
            if (parse.GetValue(dryRun))
            {
                Console.Write(resolved.ToToml());
                return 0;
            }

            return Train(resolved);
        });
        return command;
    }

    private static int Train(TrainingConfig config)
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
            TrainingResult? result = null;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("loading", maxValue: 1);
                    var progress = new ProgressRenderer(p =>
                    {
                        task.MaxValue = p.TotalSteps;
                        task.Value = p.Step;
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"epoch {p.Epoch}/{p.TotalEpochs} step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} (avg {p.AverageLoss:F4}) {p.StepsPerSecond:F2} it/s ETA {p.Remaining:hh\\:mm\\:ss}");
                    });
                    var services = new TrainerServices
                    {
                        Progress = progress,
                        Log = message => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(message)}[/]"),
                    };
                    result = new Trainer(config, services).Run(cancel.Token);
                });
            foreach (var output in result!.Outputs)
            {
                AnsiConsole.MarkupLine($"saved [green]{Markup.Escape(output)}[/]");
            }

            foreach (var state in result.StateFolders)
            {
                AnsiConsole.MarkupLine($"state [green]{Markup.Escape(state)}[/]");
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
