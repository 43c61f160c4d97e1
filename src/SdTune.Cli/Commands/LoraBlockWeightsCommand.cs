using System.CommandLine;
using System.Globalization;
using SdTune.Adapters;
using SdTune.Workshop.Lora;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora block-weights FILE --weights PRESET|W,W,... --out FILE</c>: bakes LoRA Block Weight weights into a file.</summary>
internal static class LoraBlockWeightsCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("lora") { Description = "The LoRA file (any layout sdtune reads)." };
        var weights = new Option<string>("--weights")
        {
            Description = $"A1111 LoRA Block Weight weights: a preset ({string.Join(", ", LoraBlockWeightPresets.Names)}) or 17 (SD 1.x/2.x: BASE,IN01,IN02,IN04,IN05,IN07,IN08,M00,OUT03-OUT11), " +
                "12 (SDXL: BASE,IN04,IN05,IN07,IN08,M00,OUT00-OUT05), 20 or 26 comma-separated numbers. BASE weights the text encoders.",
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "The .safetensors file to write (never the input).", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output file." };
        var architecture = LoraArchitectureOption.Create();
        var command = new Command("block-weights", "Write a LoRA with its blocks scaled by LoRA Block Weight weights (lbw=): used at weight 1 it acts as the original with those block weights.")
        {
            input,
            weights,
            output,
            architecture,
            overwrite,
        };
        command.SetAction(parse =>
        {
            var destination = parse.GetRequiredValue(output);
            var result = LoraBlockWeightsTool.Run(parse.GetRequiredValue(input), destination, parse.GetRequiredValue(weights),
                LoraArchitectureOption.Value(parse, architecture), parse.GetValue(overwrite));
            LoraToolOutput.Warn(result.Unmatched, "copied unchanged");
            var vector = string.Join(",", result.Weights.Select(w => w.ToString(CultureInfo.InvariantCulture)));
            Console.WriteLine($"{destination}: {result.Modules} modules scaled by {vector} ({result.Architecture})");
            return 0;
        });
        return command;
    }
}
