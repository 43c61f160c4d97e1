using System.CommandLine;
using SdTune.Cli.Commands;

namespace SdTune.Cli;

/// <summary>The <c>sdtune</c> command tree.</summary>
public static class SdTuneCli
{
    /// <summary>Parses <paramref name="args"/>, runs the command and returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        var threads = ThreadsOption.Create();
        var root = new RootCommand("SdTune: fine-tune and run Stable Diffusion models (SD 1.x, 2.x, SDXL).")
        {
            threads,
            InspectCommand.Create(),
            GenerateCommand.Create(),
            PreprocessCommand.Create(),
            TrainCommand.Create(),
            LoraCommand.Create(),
            MergeCommand.Create(),
            ToyWorldCommand.Create(),
            BenchCommand.Create(),
            QuickstartCommand.Create(),
            StudioCommand.Create(),
            StudioCommand.CreateWorker(),
        };
        return CliRunner.Run(root, args, parse => ThreadsOption.Apply(parse, threads));
    }
}
