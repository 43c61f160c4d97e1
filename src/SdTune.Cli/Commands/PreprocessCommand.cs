using System.CommandLine;
using SdTune.Imaging;
using SdTune.Imaging.Preprocessors;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune preprocess NAME IMAGE --out FILE</c>: runs a control-image preprocessor and saves an RGB PNG.</summary>
internal static class PreprocessCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("preprocessor") { Description = $"The preprocessor: {string.Join(", ", PreprocessorRegistry.All.Select(p => $"{p.Name} ({p.Description})"))}" };
        var input = new Argument<string>("image") { Description = "The input image." };
        var output = new Option<string>("--out") { Description = "The PNG to write.", Required = true };
        // One option per setting any preprocessor takes; a setting the chosen one does not take is an error.
        var settings = PreprocessorRegistry.All.SelectMany(p => p.Settings).GroupBy(s => s.Name)
            .Select(g => new Option<double?>("--" + g.Key) { Description = string.Join("; ", g.Select(s => $"{s.Description} (default {s.Default})").Distinct()) })
            .ToList();

        var command = new Command("preprocess", "Turn an image into a control image (edges, a binary sketch, ...) for --control-image.") { name, input, output };
        foreach (var setting in settings)
        {
            command.Options.Add(setting);
        }

        command.SetAction(parse =>
        {
            var given = settings.Where(o => parse.GetValue(o) is not null).ToDictionary(o => o.Name[2..], o => parse.GetValue(o)!.Value);
            var preprocessor = PreprocessorRegistry.Find(parse.GetRequiredValue(name));
            var values = PreprocessorRegistry.Resolve(preprocessor, given);
            using var image = ImageFile.Load(parse.GetRequiredValue(input));
            using var result = preprocessor.Apply(image, values);
            var file = parse.GetRequiredValue(output);
            if (Path.GetDirectoryName(Path.GetFullPath(file)) is { } folder)
            {
                Directory.CreateDirectory(folder);
            }

            PngWriter.Save(file, result);
            Console.WriteLine(file);
            return 0;
        });
        return command;
    }
}
