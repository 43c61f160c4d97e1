using System.CommandLine;
using System.Globalization;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using SdTune.Cli.Output;
using Spectre.Console;

namespace SdTune.Cli.Commands;

/// <summary>
/// <c>sdtune quickstart</c>: the first thing to run. Fine-tunes a LoRA on the embedded toy base model for the
/// benchmark subject, in a few minutes on a CPU, and shows what it learned: scores and picture grids before and after.
/// </summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output folder (training data, the LoRA, before.png, after.png).", DefaultValueFactory = _ => Path.Combine("runs", "quickstart") };
        var steps = new Option<int>("--steps") { Description = "LoRA training steps.", DefaultValueFactory = _ => BenchmarkOptions.DefaultSteps };
        var command = new Command("quickstart", "Teach the embedded toy model a new subject with a LoRA and show the before/after scores and grids (a few minutes on a CPU).")
        {
            output, steps,
        };
        command.SetAction(parse =>
        {
            var spec = BenchmarkSpec.Load(ToyAssets.BenchmarkSpec);
            var options = new BenchmarkOptions
            {
                BaseModel = ToyAssets.ModelOrDefault(null),
                Spec = spec,
                OutputDirectory = parse.GetValue(output)!,
                Methods = [BenchmarkMethods.Lora],
                Steps = parse.GetValue(steps),
            };
            var console = CliConsole.Out();
            console.MarkupLine($"Teaching the toy base model a [bold]{Markup.Escape(spec.Subject.Description)}[/] ('{spec.Identifier} {spec.ClassWord}') from {spec.Instances.Count} pictures with a LoRA...");
            var rows = MethodBenchmark.Run(options, line => console.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
            var (before, after) = (rows[0], rows[^1]);
            var beforeGrid = Path.Combine(options.OutputDirectory, "before.png");
            var afterGrid = Path.Combine(options.OutputDirectory, "after.png");
            File.Copy(before.Grid, beforeGrid, overwrite: true);
            File.Copy(after.Grid, afterGrid, overwrite: true);

            static string P(double v) => v.ToString("P0", CultureInfo.InvariantCulture);
            var table = new Table().AddColumns("", "before (base model)", "after (LoRA)");
            table.AddRow("subject fidelity: \"a sks star ...\" shows the subject", P(before.SubjectFidelity), P(after.SubjectFidelity));
            table.AddRow("prompt fidelity: prompted background, size and position", P(before.PromptFidelity.All), P(after.PromptFidelity.All));
            table.AddRow("prior preservation: \"a star ...\" stays an ordinary star", P(before.PriorPreservation), P(after.PriorPreservation));
            console.Write(table);
            console.MarkupLine($"LoRA: {Markup.Escape(Path.Combine(options.OutputDirectory, "lora", "lora.safetensors"))} ({after.OutputBytes / 1e3:F0} kB, trained in {after.TrainSeconds:F0} s)");
            console.MarkupLine($"Grids: {Markup.Escape(beforeGrid)} and {Markup.Escape(afterGrid)}");
            return 0;
        });
        return command;
    }
}
