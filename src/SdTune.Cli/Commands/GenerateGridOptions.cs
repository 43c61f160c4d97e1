using System.CommandLine;
using System.Globalization;
using SdTune.Cli.Output;
using SdTune.Imaging;
using SdTune.Pipelines;
using SdTune.Pipelines.Grids;

namespace SdTune.Cli.Commands;

/// <summary>
/// The comparison-grid options of <c>sdtune generate</c>: <c>--prompt-matrix</c> (A1111's <c>|</c> syntax) or an X/Y/Z
/// plot (<c>--x-type</c>/<c>--x-values</c>, likewise y and z). A grid is saved as one PNG, <c>grid-NNNNN.png</c>, with
/// the first cell's infotext; <c>--grid-save-cells</c> also saves every cell as a numbered PNG with its own.
/// </summary>
internal sealed class GenerateGridOptions
{
    private readonly Option<bool> promptMatrix = new("--prompt-matrix") { Description = "Prompt matrix: --prompt \"first part|optional|optional\" makes a grid of every combination of the optional parts." };
    private readonly Option<bool> variableFirst = new("--matrix-variable-first") { Description = "Prompt matrix: put the optional parts at the start of the prompt." };
    private readonly Option<bool> differentSeeds = new("--matrix-different-seeds") { Description = "Prompt matrix: picture i uses seed + i (default: all use the seed)." };
    private readonly Option<bool> saveCells = new("--grid-save-cells") { Description = "Also save every picture of a grid as its own PNG with its own parameters." };
    private readonly (Option<string?> Type, Option<string?> Values)[] axes =
    [
        Axis("x", "across the columns"),
        Axis("y", "down the rows"),
        Axis("z", "one panel per value, side by side"),
    ];

    /// <summary>The options, to add to the command.</summary>
    public IEnumerable<Option> All => [promptMatrix, variableFirst, differentSeeds, .. axes.SelectMany(a => new Option[] { a.Type, a.Values }), saveCells];

    /// <summary>The grid the command line asks for; null when it asks for none.</summary>
    /// <exception cref="ArgumentException">The options do not fit together, or an axis's type or values are bad (the message names the option).</exception>
    /// <exception cref="FileNotFoundException">A LoRA file or checkpoint axis value names no file.</exception>
    public GridPlan? Plan(ParseResult parse, GenerationRequest request, string? loraFolder)
    {
        var matrix = parse.GetValue(promptMatrix);
        var given = axes.Select(a => (Type: parse.GetValue(a.Type), Values: parse.GetValue(a.Values))).ToList();
        for (var i = 0; i < axes.Length; i++)
        {
            if ((given[i].Type is null) != (given[i].Values is null))
            {
                var (missing, present) = given[i].Type is null ? (axes[i].Type, axes[i].Values) : (axes[i].Values, axes[i].Type);
                throw new ArgumentException($"{present.Name} is given without {missing.Name}; an axis needs both.");
            }
        }

        var xyz = given.Any(g => g.Type is not null);
        if (!matrix && !xyz)
        {
            var stray = new[] { variableFirst, differentSeeds, saveCells }.FirstOrDefault(parse.GetValue);
            return stray is null ? null : throw new ArgumentException($"{stray.Name} is given without --prompt-matrix or an X/Y/Z axis (--x-type).");
        }

        if (matrix && xyz)
        {
            throw new ArgumentException("--prompt-matrix and --x-type/--y-type/--z-type make different grids; give one of them.");
        }

        if (request.BatchSize != 1)
        {
            throw new ArgumentException("--batch: a grid makes one picture per cell; leave --batch at 1.");
        }

        if (matrix)
        {
            return PromptMatrix.Plan(request, parse.GetValue(variableFirst), parse.GetValue(differentSeeds));
        }

        if (parse.GetValue(variableFirst) || parse.GetValue(differentSeeds))
        {
            throw new ArgumentException("--matrix-variable-first and --matrix-different-seeds belong to --prompt-matrix.");
        }

        XyzAxisText? Text(int i) => given[i].Type is { } type ? new XyzAxisText("--" + "xyz"[i], type, given[i].Values!) : null;
        return XyzPlan.Create(request, Text(0), Text(1), Text(2), loraFolder);
    }

    /// <summary>Generates the grid, saves it (and its cells with --grid-save-cells) in <paramref name="folder"/>, and prints the files.</summary>
    public int Run(ParseResult parse, GridPlan plan, Func<string?, GridModel> open, string folder)
    {
        var title = $"grid of {plan.Cells.Count}";
        var result = StepProgress.Run(title, progress => GridRunner.Run(plan, open, p =>
            progress.Report(((p.Cell - 1) * 1000L) + (p.Step * 1000L / Math.Max(1, p.Steps)), p.Cells * 1000L, $"{title}: picture {p.Cell}/{p.Cells}, step {p.Step}/{p.Steps}")));
        using (result)
        {
            foreach (var warning in result.Warnings)
            {
                Console.Error.WriteLine($"warning: {warning}");
            }

            GenerateCommand.PrepareFolder(folder);
            var index = GenerateCommand.NextIndex(folder);
            var saved = parse.GetValue(saveCells);
            if (saved)
            {
                foreach (var image in result.Images)
                {
                    var file = Path.Combine(folder, $"{index++:D5}-{image.Seed}.png");
                    PngWriter.Save(file, image.Image, new Dictionary<string, string> { ["parameters"] = image.Infotext.ToText() });
                    Console.WriteLine(file);
                }
            }

            using var grid = ComparisonGrid.Create([.. result.Images.Select(i => i.Image)], plan.Columns, plan.Rows, plan.ColumnLabels, plan.RowLabels, plan.PanelLabels, w => Console.Error.WriteLine($"warning: {w}"));
            // Numbered like a batch's grid (the last picture's number), never over an earlier grid.
            var gridFile = Path.Combine(folder, $"grid-{Math.Max(saved ? index - 1 : index, NextGridIndex(folder)):D5}.png");
            PngWriter.Save(gridFile, grid, new Dictionary<string, string> { ["parameters"] = result.Images[0].Infotext.ToText() });
            Console.WriteLine(gridFile);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done in {result.Total.TotalSeconds:F1} s ({result.Unet.TotalSeconds:F1} s in {result.UnetCalls} UNet passes)"));
        }

        return 0;
    }

    private static int NextGridIndex(string folder) =>
        Directory.EnumerateFiles(folder, "grid-*.png")
            .Select(f => Path.GetFileNameWithoutExtension(f)[5..])
            .Select(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i + 1 : 0)
            .DefaultIfEmpty(0)
            .Max();

    private static (Option<string?> Type, Option<string?> Values) Axis(string name, string where) =>
    (
        new Option<string?>($"--{name}-type") { Description = $"X/Y/Z plot: the setting varied {where}: {XyzAxisTypes.Valid}." },
        new Option<string?>($"--{name}-values") { Description = $"X/Y/Z plot: the {name.ToUpperInvariant()} values, comma-separated; numbers take ranges (1-5, 1-5 (+2), 10-20 [3]); Prompt S/R: the first value is the text each value replaces." }
    );
}
