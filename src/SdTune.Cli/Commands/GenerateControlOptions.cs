using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using SdTune.Imaging;
using SdTune.Imaging.Preprocessors;
using SdTune.Pipelines.Control;
using SkiaSharp;

namespace SdTune.Cli.Commands;

/// <summary>
/// The control options of <c>sdtune generate</c>. Controls are numbered in the order their <c>--controlnet</c> and
/// <c>--t2i-adapter</c> options appear; the i-th <c>--control-image</c> belongs to control i. Each per-control option
/// (<c>--control-start</c>, <c>--control-end</c>, <c>--control-resize</c>, <c>--control-preprocess</c>) is given either
/// once, for every control, or once per control, in the same order. <c>--guess-mode</c> applies to every ControlNet.
/// </summary>
internal sealed class GenerateControlOptions
{
    private readonly Option<string[]> controlNet = new("--controlnet") { Description = "Apply a ControlNet: a diffusers folder or an original single file, FILE[:scale] (repeatable; pairs with --control-image in order).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> adapter = new("--t2i-adapter") { Description = "Apply a T2I-Adapter (diffusers folder): FOLDER[:scale] (repeatable; pairs with --control-image in order).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> image = new("--control-image") { Description = "The conditioning image of each control, in the order of --controlnet/--t2i-adapter (one per control).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<double[]> start = new("--control-start") { Description = "Fraction of the steps at which a control starts (default 0); once for all controls or once per control.", AllowMultipleArgumentsPerToken = false };
    private readonly Option<double[]> end = new("--control-end") { Description = "Fraction of the steps at which a control stops (default 1; the window is [start, end)); once for all or once per control.", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> resize = new("--control-resize") { Description = $"How a control image is fitted to the image size: {string.Join(", ", ControlResizeModes.Aliases)} (default crop = \"Crop and Resize\"); once for all or once per control.", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> preprocess = new("--control-preprocess") { Description = $"Run a preprocessor on the control image first: {string.Join(", ", PreprocessorRegistry.Names)}, or none; once for all or once per control.", AllowMultipleArgumentsPerToken = false };
    private readonly Option<bool> guessMode = new("--guess-mode") { Description = "Guess mode for every ControlNet: only the conditional half of the CFG batch is controlled, residuals scaled 0.1 to 1." };

    /// <summary>The options, to add to the command.</summary>
    public IEnumerable<Option> All => [controlNet, adapter, image, start, end, resize, preprocess, guessMode];

    /// <summary>
    /// The controls the command line asks for, with their images loaded into <paramref name="images"/> (the caller
    /// disposes them).
    /// </summary>
    /// <exception cref="ArgumentException">The counts do not pair up, or a value is invalid; the message names the option.</exception>
    /// <exception cref="ImageLoadException">A control image cannot be read; the message names the file.</exception>
    public IReadOnlyList<ControlRequest> Read(ParseResult parse, List<SKBitmap> images)
    {
        var models = Models(parse);
        var imagePaths = parse.GetValue(image) ?? [];
        var count = models.Count;
        if (count == 0)
        {
            var stray = new (Option Option, bool Given)[]
            {
                (image, imagePaths.Length > 0), (start, parse.GetResult(start) is not null), (end, parse.GetResult(end) is not null),
                (resize, parse.GetResult(resize) is not null), (preprocess, parse.GetResult(preprocess) is not null), (guessMode, parse.GetValue(guessMode)),
            }.FirstOrDefault(o => o.Given).Option;
            return stray is null ? [] : throw new ArgumentException($"{stray.Name} is given without --controlnet or --t2i-adapter.");
        }

        if (imagePaths.Length != count)
        {
            throw new ArgumentException($"--control-image: {count} control(s) (--controlnet/--t2i-adapter) but {imagePaths.Length} control image(s); give one --control-image per control, in the same order.");
        }

        var starts = PerControl(start, parse.GetValue(start), count, 0.0);
        var ends = PerControl(end, parse.GetValue(end), count, 1.0);
        var modes = PerControl(resize, parse.GetValue(resize), count, "crop");
        var preprocessors = PerControl(preprocess, parse.GetValue(preprocess), count, "none");
        var requests = new List<ControlRequest>();
        for (var i = 0; i < count; i++)
        {
            var (type, path, scale) = models[i];
            ControlResizeMode mode;
            try
            {
                mode = ControlResizeModes.Parse(modes[i]);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"--control-resize: {e.Message}", e);
            }

            var bitmap = ImageFile.Load(imagePaths[i]);
            images.Add(bitmap);
            requests.Add(new ControlRequest
            {
                Type = type,
                ModelPath = path,
                Image = bitmap,
                Scale = scale,
                GuidanceStart = starts[i],
                GuidanceEnd = ends[i],
                ResizeMode = mode,
                GuessMode = type == ControlType.ControlNet && parse.GetValue(guessMode),
                Preprocessor = preprocessors[i].Equals("none", StringComparison.OrdinalIgnoreCase) ? null : preprocessors[i],
            });
        }

        return requests;
    }

    /// <summary>The models in command-line order: the kind of each --controlnet/--t2i-adapter token, with the values of each option in turn.</summary>
    private List<(ControlType Type, string Path, double Scale)> Models(ParseResult parse)
    {
        var controlNets = new Queue<string>(parse.GetValue(controlNet) ?? []);
        var adapters = new Queue<string>(parse.GetValue(adapter) ?? []);
        var models = new List<(ControlType, string, double)>();
        foreach (var token in parse.Tokens.Where(t => t.Type == TokenType.Option))
        {
            var (kind, values) = Names(controlNet).Contains(token.Value) ? (ControlType.ControlNet, controlNets)
                : Names(adapter).Contains(token.Value) ? (ControlType.T2IAdapter, adapters)
                : (ControlType.ControlNet, null);
            if (values is not null && values.TryDequeue(out var value))
            {
                var (path, scale) = PathAndScale(value);
                models.Add((kind, path, scale));
            }
        }

        // Values the token walk did not place (none are expected) keep their option's order at the end.
        models.AddRange(controlNets.Select(v => (ControlType.ControlNet, PathAndScale(v).Path, PathAndScale(v).Scale)));
        models.AddRange(adapters.Select(v => (ControlType.T2IAdapter, PathAndScale(v).Path, PathAndScale(v).Scale)));
        return models;
    }

    private static IEnumerable<string> Names(Option option) => [option.Name, .. option.Aliases];

    /// <summary>FILE[:scale]: a trailing <c>:number</c> is the scale (1 when absent).</summary>
    private static (string Path, double Scale) PathAndScale(string text)
    {
        var colon = text.LastIndexOf(':');
        return colon > 0 && double.TryParse(text[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var scale)
            ? (text[..colon], scale)
            : (text, 1.0);
    }

    private static T[] PerControl<T>(Option option, T[]? given, int count, T fallback)
    {
        given ??= [];
        return given.Length switch
        {
            0 => Enumerable.Repeat(fallback, count).ToArray(),
            1 => Enumerable.Repeat(given[0], count).ToArray(),
            _ when given.Length == count => given,
            _ => throw new ArgumentException($"{option.Name}: given {given.Length} times for {count} control(s); give it once (for every control) or once per control, in order."),
        };
    }
}
