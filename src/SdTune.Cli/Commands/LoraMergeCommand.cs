using System.CommandLine;
using SdTune.Workshop.Lora;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora merge</c>: several LoRAs into one.</summary>
internal static class LoraMergeCommand
{
    public static Command Create()
    {
        var loras = new Argument<string[]>("loras") { Description = "The LoRA files (one model family).", Arity = ArgumentArity.OneOrMore };
        var output = LoraToolOptions.Out("The .safetensors file to write; never an input.");
        var weights = new Option<string?>("--weights") { Description = "Comma-separated weights, one per LoRA (default 1 each; negative subtracts)." };
        var method = new Option<string>("--method") { Description = "concat: join the ranks, exact (LoRA/LoCon inputs); svd: sum the deltas and keep --rank by SVD (any family).", DefaultValueFactory = _ => "concat" };
        var rank = new Option<int?>("--rank") { Description = "svd: the rank of the merged Linear and 1x1 convolution modules." };
        var convRank = LoraToolOptions.ConvRank("svd: the rank of 3x3 convolution modules (default: --rank).");
        var clamp = new Option<double>("--clamp-quantile") { Description = "svd: clamp both factors at this quantile of their values (1: no clamping).", DefaultValueFactory = _ => 0.99 };
        var modelPath = LoraToolOptions.Model();
        var dtype = LoraToolOptions.DType();
        var verbose = LoraToolOptions.Verbose();
        var command = new Command("merge", "Merge LoRAs with weights into one: by concatenating ranks (exact) or by SVD to a chosen rank (with its error per module).")
        {
            loras, output, weights, method, rank, convRank, clamp, modelPath, dtype, verbose,
        };
        command.SetAction(parse =>
        {
            var paths = parse.GetRequiredValue(loras);
            var given = parse.GetValue(weights) is { } text ? LoraToolOptions.Numbers(text, "--weights") : [.. paths.Select(_ => 1.0)];
            if (given.Count != paths.Length)
            {
                throw new ArgumentException($"--weights has {given.Count} value(s) for {paths.Length} LoRA file(s).");
            }

            var svd = parse.GetValue(method) switch
            {
                "concat" => false,
                "svd" => true,
                var other => throw new ArgumentException($"--method must be concat or svd, not '{other}'."),
            };
            var result = LoraMerge.Run(new LoraMergeOptions
            {
                Inputs = [.. paths.Select((p, i) => new LoraMergeInput(p, given[i]))],
                Output = parse.GetRequiredValue(output),
                Method = svd ? LoraMergeMethod.Svd : LoraMergeMethod.Concat,
                Rank = parse.GetValue(rank) is { } r ? LoraToolOptions.Rule(r, "--rank", null, null) : null,
                ConvRank = parse.GetValue(convRank) is { } c ? LoraToolOptions.Rule(c, "--conv-rank", null, null) : null,
                ClampQuantile = parse.GetValue(clamp),
                Model = parse.GetValue(modelPath),
                SaveDType = LoraToolOptions.ParseDType(parse.GetValue(dtype)),
            });
            LoraToolOptions.Print(result, parse.GetValue(verbose));
            return 0;
        });
        return command;
    }
}
