using System.CommandLine;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora ...</c>: tools that work on LoRA files (one subcommand per file).</summary>
internal static class LoraCommand
{
    public static Command Create() => new("lora", "Work on LoRA files: bake one into a checkpoint, merge, resize, extract one from two checkpoints, convert between layouts, bake block weights.")
    {
        LoraBakeCommand.Create(),
        LoraMergeCommand.Create(),
        LoraResizeCommand.Create(),
        LoraExtractCommand.Create(),
        LoraConvertCommand.Create(),
        LoraBlockWeightsCommand.Create(),
    };
}
