using System.CommandLine;
using SdTune.Workshop.Lora;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora resize</c>: a LoRA at a lower rank.</summary>
internal static class LoraResizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("lora") { Description = "The LoRA file (any family; LoHa and LoKr become LoRA)." };
        var output = LoraToolOptions.Out("The .safetensors file to write; never the input.");
        var rank = new Option<int>("--rank") { Description = "The new rank (with --dynamic-method: the most a module keeps).", Required = true };
        var convRank = LoraToolOptions.ConvRank("The new rank of 3x3 convolution modules (default: --rank).");
        var method = LoraToolOptions.DynamicMethod();
        var parameter = LoraToolOptions.DynamicParam();
        var modelPath = LoraToolOptions.Model();
        var dtype = LoraToolOptions.DType();
        var verbose = LoraToolOptions.Verbose();
        var command = new Command("resize", "Resize a LoRA to a lower rank by SVD (fixed, or per module with sv_ratio, sv_fro, sv_cumulative), keeping its scale; reports the kept rank and retained norm.")
        {
            input, output, rank, convRank, method, parameter, modelPath, dtype, verbose,
        };
        command.SetAction(parse =>
        {
            var dynamic = parse.GetValue(method);
            var dynamicParameter = parse.GetValue(parameter);
            var result = LoraResize.Run(new LoraResizeOptions
            {
                Input = parse.GetRequiredValue(input),
                Output = parse.GetRequiredValue(output),
                Rank = LoraToolOptions.Rule(parse.GetValue(rank), "--rank", dynamic, dynamicParameter),
                ConvRank = parse.GetValue(convRank) is { } c ? LoraToolOptions.Rule(c, "--conv-rank", dynamic, dynamicParameter) : null,
                Model = parse.GetValue(modelPath),
                SaveDType = LoraToolOptions.ParseDType(parse.GetValue(dtype)),
            });
            LoraToolOptions.Print(result, parse.GetValue(verbose));
            return 0;
        });
        return command;
    }
}
