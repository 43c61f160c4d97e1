using System.CommandLine;
using SdTune.Cli;
using SdTune.Cli.Commands;

var root = new RootCommand("SdTune: fine-tune and run Stable Diffusion models (SD 1.x, 2.x, SDXL).")
{
    InspectCommand.Create(),
};
return CliRunner.Run(root, args);
