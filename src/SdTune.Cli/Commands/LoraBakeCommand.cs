using System.CommandLine;
using SdTune.Workshop.Lora;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora bake</c>: a LoRA merged into a checkpoint's weights.</summary>
internal static class LoraBakeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The checkpoint: a single file (.safetensors/.ckpt) or a diffusers folder.", Required = true };
        var lora = new Option<string>("--lora") { Description = "The LoRA file (LoRA, LoCon, LoHa, LoKr, AdaLoRA export, diffusers/PEFT).", Required = true };
        var output = LoraToolOptions.Out("The model to write: a .safetensors/.ckpt single file, or a diffusers folder (any other path); never an input.");
        var weight = new Option<double>("--weight") { Description = "The LoRA's weight (UNet, and text encoders unless --te-weight is given).", DefaultValueFactory = _ => 1.0 };
        var teWeight = new Option<double?>("--te-weight") { Description = "The weight of the text-encoder modules (default: --weight)." };
        var blocks = new Option<string?>("--block-weights") { Description = "Per-block weights as generate's lbw= takes them: 12, 17, 20 or 26 comma-separated values (BASE, IN.., M00, OUT..)." };
        var layout = new Option<string?>("--layout") { Description = "single-file or diffusers (default: by the --out path)." };
        var dtype = LoraToolOptions.DType();
        var command = new Command("bake", "Bake a LoRA into a checkpoint at a weight (optionally per block) and write the model as a single file or a diffusers folder.")
        {
            model, lora, output, weight, teWeight, blocks, layout, dtype,
        };
        command.SetAction(parse =>
        {
            var result = LoraBake.Run(new LoraBakeOptions
            {
                Model = parse.GetRequiredValue(model),
                Lora = parse.GetRequiredValue(lora),
                Output = parse.GetRequiredValue(output),
                Weight = parse.GetValue(weight),
                TextEncoderWeight = parse.GetValue(teWeight),
                BlockWeights = parse.GetValue(blocks) is { } text ? LoraToolOptions.Numbers(text, "--block-weights") : null,
                Layout = parse.GetValue(layout) switch
                {
                    null => null,
                    "single-file" => BakedModelLayout.SingleFile,
                    "diffusers" => BakedModelLayout.Diffusers,
                    var other => throw new ArgumentException($"--layout must be single-file or diffusers, not '{other}'."),
                },
                SaveDType = LoraToolOptions.ParseDType(parse.GetValue(dtype)),
            });
            LoraToolOptions.Print(result, verbose: false);
            return 0;
        });
        return command;
    }
}
