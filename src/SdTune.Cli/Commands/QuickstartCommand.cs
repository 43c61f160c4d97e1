using System.CommandLine;
using System.Globalization;
using SdTune.Cli.Output;
using SdTune.Imaging;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using Spectre.Console;

namespace SdTune.Cli.Commands;

/// <summary>
/// <c>sdtune quickstart</c>: the first thing to run. Fine-tunes a LoRA on the embedded toy base model for the
/// benchmark subject (about a minute on a 2-core CPU) and shows what it learned: scores before and after, and the base
/// model's pictures beside the LoRA's in one image.
/// </summary>
internal static class QuickstartCommand
{
    /// <summary>The before/after picture's file name in the output folder.</summary>
    public const string ComparisonFileName = "before-after.png";

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output folder (training data, the LoRA, the grids, before-after.png).", DefaultValueFactory = _ => Path.Combine("runs", "quickstart") };
        var steps = new Option<int>("--steps") { Description = "LoRA training steps.", DefaultValueFactory = _ => BenchmarkOptions.DefaultSteps };
        var command = new Command("quickstart", "Teach the embedded toy model a new subject with a LoRA; before/after scores and pictures (about a minute on a 2-core CPU).")
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
                Seeds = 1,
            };
            var console = CliConsole.Out();
            console.MarkupLine($"Teaching the toy base model a [bold]{Markup.Escape(spec.Subject.Description)}[/] ('{spec.Identifier} {spec.ClassWord}') from {spec.Instances.Count} pictures with a LoRA...");
            var rows = MethodBenchmark.Run(options, line => console.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
            var (before, after) = (rows[0].Mean, rows[^1].Mean);
            var comparison = Path.Combine(options.OutputDirectory, ComparisonFileName);
            WriteComparison(before.Grid, after.Grid, comparison, line => console.MarkupLine($"[yellow]warning: {Markup.Escape(line)}[/]"));

            static string P(double v) => v.ToString("P0", CultureInfo.InvariantCulture);
            var table = new Table().AddColumns("", "before (base model)", "after (LoRA)");
            table.AddRow("subject fidelity: \"a sks star ...\" shows the subject", P(before.SubjectFidelity), P(after.SubjectFidelity));
            table.AddRow("prompt fidelity: prompted background, size and position", P(before.PromptFidelity.All), P(after.PromptFidelity.All));
            table.AddRow("prior preservation: \"a star ...\" stays an ordinary star", P(before.PriorPreservation), P(after.PriorPreservation));
            console.Write(table);
            console.MarkupLine($"LoRA: {Markup.Escape(Path.Combine(options.OutputDirectory, "lora", "lora.safetensors"))} ({after.OutputBytes / 1e3:F0} kB, trained in {after.TrainSeconds:F0} s)");
            console.MarkupLine($"Pictures: {Markup.Escape(comparison)} (base model left, LoRA right; each row one prompt, the same seeds on both sides)");
            return 0;
        });
        return command;
    }

    /// <summary>The base model's grid and the LoRA's grid side by side under "before" and "after" captions.</summary>
    private static void WriteComparison(string beforeGrid, string afterGrid, string path, Action<string> warn)
    {
        using var before = ImageFile.Load(beforeGrid);
        using var after = ImageFile.Load(afterGrid);
        using var sideBySide = ImageGrid.CreateLabelled([before, after], ["before: the base model", "after: with the LoRA"], warn: warn);
        PngWriter.Save(path, sideBySide);
    }
}
