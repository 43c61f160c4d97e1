using System.CommandLine;
using SdTune.Adapters.Formats;
using SdTune.Workshop.Lora;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune lora convert FILE --out FILE [--to kohya|peft]</c>: kohya/A1111 ↔ diffusers/PEFT LoRA keys.</summary>
internal static class LoraConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("lora") { Description = "The LoRA file (kohya/A1111, diffusers/PEFT or old diffusers attention-processor keys; .safetensors or .pt/.ckpt)." };
        var output = new Option<string>("--out") { Description = "The .safetensors file to write (never the input).", Required = true };
        var to = new Option<string?>("--to") { Description = "The layout to write: kohya (A1111, ComfyUI, kohya) or peft (diffusers load_lora_weights; also 'diffusers'). Default: the other one than the input's." };
        to.AcceptOnlyFromAmong("kohya", "peft", "diffusers");
        var fold = new Option<bool>("--fold-alpha") { Description = "PEFT output: multiply alpha/rank into the up (lora_B) weights and write alpha = rank, for loaders that ignore diffusers' lora_adapter_metadata." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output file." };
        var architecture = LoraArchitectureOption.Create();
        var command = new Command("convert", "Convert a LoRA between kohya/A1111 keys (lora_unet_..., alpha tensors) and diffusers/PEFT keys (unet....lora_A, alpha in lora_adapter_metadata). Round trips are exact.")
        {
            input,
            output,
            to,
            fold,
            architecture,
            overwrite,
        };
        command.SetAction(parse =>
        {
            LoraLayout? layout = parse.GetValue(to) switch
            {
                null => null,
                "kohya" => LoraLayout.Kohya,
                _ => LoraLayout.Peft,
            };
            var destination = parse.GetRequiredValue(output);
            var result = LoraConvert.Run(parse.GetRequiredValue(input), destination, layout, LoraArchitectureOption.Value(parse, architecture),
                parse.GetValue(fold), parse.GetValue(overwrite));
            LoraToolOutput.Warn(result.Unmatched, "left out");
            Console.WriteLine($"{destination}: {result.Modules} modules, {Name(result.From)} -> {Name(result.To)} ({result.Architecture})");
            return 0;
        });
        return command;
    }

    private static string Name(LoraLayout layout) => layout == LoraLayout.Kohya ? "kohya" : "peft";
}
