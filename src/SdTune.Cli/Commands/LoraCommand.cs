using System.CommandLine;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora ...</c>: tools that rewrite LoRA files.</summary>
internal static class LoraCommand
{
    public static Command Create() => new Command("lora", "Work on LoRA files: convert between layouts, bake block weights, ...")
    {
        LoraConvertCommand.Create(),
        LoraBlockWeightsCommand.Create(),
    };
}
