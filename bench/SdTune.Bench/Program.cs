using SdTune.Bench.Benchmarks;
using SdTune.Runtime;

// Benchmarks print tables with a baseline measured in the same run. They are not part of the test suite.
//   dotnet run -c Release --project bench/SdTune.Bench -- load [--work DIR] [--repeats N]
//   dotnet run -c Release --project bench/SdTune.Bench -- sampling [--tiny-only]
//   dotnet run -c Release --project bench/SdTune.Bench -- headers [--work DIR]   (safetensors headers at the reader's limits)
//   dotnet run -c Release --project bench/SdTune.Bench -- lora-training [--models sd15,sdxl-base] [--steps N] [--savings-only]
//   dotnet run -c Release --project bench/SdTune.Bench -- controlnet [--sampling-steps N] [--steps N] [--with-baseline] [--skip-sampling] [--skip-training]
//   dotnet run -c Release --project bench/SdTune.Bench -- merge [--model sdxl|sd15] [--work DIR] [--keep]   (peak memory of a streamed add-difference merge)
//   dotnet run -c Release --project bench/SdTune.Bench -- studio [--clients 50] [--seconds 20] [--jobs 30]   (queue dispatch rate; API response time under load)
//   dotnet run -c Release --project bench/SdTune.Bench -- child vae-encode sdxl-base   (memory of model build + one VAE encode) [--savings-only]
//   dotnet run -c Release --project bench/SdTune.Bench -- child unet-step sdxl-base [--no-checkpointing]   (memory of one bf16 UNet step, by phase)
//   dotnet run -c Release --project bench/SdTune.Bench -- child controlnet-step AdamW|Adafactor [--steps N] [--no-checkpointing]   (memory of SD 1.5 ControlNet training steps, by phase)
var work = Option("--work") ?? Path.Combine(Path.GetTempPath(), "sdtune-bench");
var repeats = int.Parse(Option("--repeats") ?? "2", System.Globalization.CultureInfo.InvariantCulture);
switch (args.FirstOrDefault())
{
    case "load":
        return CheckpointLoadBenchmark.Run(work, repeats);
    case "lora-training":
        return LoraTrainingBenchmark.Run(work, (Option("--models") ?? "sd15,sdxl-base").Split(','), int.Parse(Option("--steps") ?? "2", System.Globalization.CultureInfo.InvariantCulture), args.Contains("--savings-only"));
    case "sampling":
        return SamplingOverheadBenchmark.Run(includeFullSize: !args.Contains("--tiny-only"));
    case "controlnet":
        return ControlNetBenchmark.Run(work, int.Parse(Option("--sampling-steps") ?? "3", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Option("--steps") ?? "1", System.Globalization.CultureInfo.InvariantCulture), args.Contains("--with-baseline"), args.Contains("--skip-sampling"), args.Contains("--skip-training"));
    case "headers":
        return HeaderLimitBenchmark.Run(work);
    case "merge":
        return CheckpointMergeBenchmark.Run(work, Option("--model") ?? "sdxl", args.Contains("--keep"));
    case "studio":
        return StudioLoadBenchmark.Run(int.Parse(Option("--clients") ?? "50", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Option("--seconds") ?? "20", System.Globalization.CultureInfo.InvariantCulture), int.Parse(Option("--jobs") ?? "30", System.Globalization.CultureInfo.InvariantCulture));
    case "child" when args.Length >= 3:
        switch (args[1])
        {
            case "merge" when args.Length >= 6:
                CheckpointMergeBenchmark.Child(args[2], args[3], args[4], args[5]);
                return 0;
            case "merge-idle":
                CheckpointMergeBenchmark.ChildIdle();
                return 0;
            case "raw":
                CheckpointLoadBenchmark.ChildRaw(args[2]);
                return 0;
            case "load":
                CheckpointLoadBenchmark.ChildLoad(args[2]);
                return 0;
            case "header" when args.Length >= 4:
                HeaderLimitBenchmark.Child(args[2], args[3]);
                return 0;
            case "vae-encode" when args.Length >= 3:
                LoraTrainingBenchmark.ChildVaeEncode(args[2]);
                return 0;
            case "unet-step" when args.Length >= 3:
                UnetStepMemoryProbe.Run(args[2], !args.Contains("--no-checkpointing"));
                return 0;
            case "controlnet-step" when args.Length >= 3:
                ControlNetStepMemoryProbe.Run(args[2], int.Parse(Option("--steps") ?? "2", System.Globalization.CultureInfo.InvariantCulture), !args.Contains("--no-checkpointing"));
                return 0;
            case "controlnet-train" when args.Length >= 7:
                ControlNetBenchmark.Child(bool.Parse(args[2]), bool.Parse(args[3]), int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture), args[5], args[6]);
                return 0;
            case "train" when args.Length >= 7:
                LoraTrainingBenchmark.Child(args[2], bool.Parse(args[3]), bool.Parse(args[4]), int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture), args[6]);
                return 0;
        }

        break;
}

Console.WriteLine(TorchRuntime.Describe());
Console.Error.WriteLine("usage: SdTune.Bench load [--work DIR] [--repeats N] | sampling [--tiny-only] | headers [--work DIR] | merge [--model sdxl|sd15] [--keep] | lora-training [--models sd15,sdxl-base] [--steps N] [--savings-only] | controlnet [--sampling-steps N] [--steps N] [--with-baseline] [--skip-sampling] [--skip-training] | studio [--clients 50] [--seconds 20] [--jobs 30]");
return 2;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
