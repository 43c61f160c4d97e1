using System.CommandLine;
using SdTune.Workshop.Lora;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora extract</c>: a LoRA from the difference of two checkpoints.</summary>
internal static class LoraExtractCommand
{
    public static Command Create()
    {
        var original = new Option<string>("--base") { Description = "The original checkpoint (single file or diffusers folder).", Required = true };
        var tuned = new Option<string>("--tuned") { Description = "The fine-tuned checkpoint, of the same architecture.", Required = true };
        var output = LoraToolOptions.Out("The .safetensors file to write; never an input.");
        var rank = new Option<int>("--rank") { Description = "The rank of Linear and 1x1 convolution modules (with --dynamic-method: the most a module keeps).", DefaultValueFactory = _ => 4 };
        var convRank = LoraToolOptions.ConvRank("Also extract the resnets and samplers, 3x3 convolutions as LoCon at this rank (kohya's conv_dim).");
        var method = LoraToolOptions.DynamicMethod();
        var parameter = LoraToolOptions.DynamicParam();
        var clamp = new Option<double>("--clamp-quantile") { Description = "Clamp both factors at this quantile of their values (1: no clamping).", DefaultValueFactory = _ => 0.99 };
        var minDiff = new Option<double>("--min-diff") { Description = "Leave out a text encoder whose weights differ by at most this much.", DefaultValueFactory = _ => 0.01 };
        var dtype = LoraToolOptions.DType();
        var verbose = LoraToolOptions.Verbose();
        var command = new Command("extract", "Extract a LoRA (LoCon with --conv-rank) from the difference of two checkpoints by SVD, at a fixed or dynamic rank.")
        {
            original, tuned, output, rank, convRank, method, parameter, clamp, minDiff, dtype, verbose,
        };
        command.SetAction(parse =>
        {
            var dynamic = parse.GetValue(method);
            var dynamicParameter = parse.GetValue(parameter);
            var result = LoraExtract.Run(new LoraExtractOptions
            {
                Base = parse.GetRequiredValue(original),
                Tuned = parse.GetRequiredValue(tuned),
                Output = parse.GetRequiredValue(output),
                Rank = LoraToolOptions.Rule(parse.GetValue(rank), "--rank", dynamic, dynamicParameter),
                ConvRank = parse.GetValue(convRank) is { } c ? LoraToolOptions.Rule(c, "--conv-rank", dynamic, dynamicParameter) : null,
                ClampQuantile = parse.GetValue(clamp),
                MinDiff = parse.GetValue(minDiff),
                SaveDType = LoraToolOptions.ParseDType(parse.GetValue(dtype)),
            });
            LoraToolOptions.Print(result, parse.GetValue(verbose));
            return 0;
        });
        return command;
    }
}
