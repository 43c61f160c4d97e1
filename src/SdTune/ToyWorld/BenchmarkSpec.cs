using System.Text.RegularExpressions;

namespace SdTune.ToyWorld;

/// <summary>
/// The fine-tuning benchmark on the toy world: the subject to teach, the identifier token and class word, the
/// instance pictures (one <c>[[instances]]</c> table each) and the evaluation placements (<c>[[evaluation]]</c>),
/// with caption and prompt templates. Templates may use {identifier}, {class}, {size}, {background} and {position};
/// the class prompt also {color}, a colour of the class picture that is neither the subject's nor the background
/// (pretraining captions always name a shape's colour, so class prompts name one too).
/// The default is in <c>toyworld/benchmark.toml</c>.
/// </summary>
public sealed partial record BenchmarkSpec
{
    private static readonly string[] Keys =
    [
        "identifier", "class_word", "image_size", "seed", "images_per_prompt", "instance_count",
        "instance_caption", "evaluation_prompt", "class_prompt", "subject", "instances", "evaluation", "methods", "methods_from",
    ];

    private static readonly string[] PlacementKeys = ["background", "size", "position"];

    private static readonly string[] Placeholders = ["identifier", "class", "size", "background", "position", "color"];

    /// <summary>Where the spec came from (used in messages).</summary>
    public string Source { get; init; } = "";

    /// <summary>The concept to teach.</summary>
    public required ToySubject Subject { get; init; }

    /// <summary>The class word ("star").</summary>
    public required string ClassWord { get; init; }

    /// <summary>The rare identifier token ("sks").</summary>
    public required string Identifier { get; init; }

    /// <summary>The side of the pictures (32).</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>The seed of jitter and sampling.</summary>
    public long Seed { get; init; }

    /// <summary>How many pictures to generate per evaluation prompt (4).</summary>
    public int ImagesPerPrompt { get; init; } = 4;

    /// <summary>The instance pictures' placements.</summary>
    public required IReadOnlyList<ToyPlacement> Instances { get; init; }

    /// <summary>The placements the evaluation prompts ask for.</summary>
    public required IReadOnlyList<ToyPlacement> Evaluation { get; init; }

    /// <summary>
    /// The rows to run, with their settings (<c>[[methods]]</c>, or those of the spec <c>methods_from</c> names, so two
    /// subjects can share one set of tuned rows); empty when the spec names none, and then the rows the training methods
    /// declare are run (<see cref="Benchmark.BenchmarkMethods.For"/>).
    /// </summary>
    public IReadOnlyList<BenchmarkRowSpec> Methods { get; init; } = [];

    /// <summary>The caption template of the instance pictures.</summary>
    public string InstanceCaption { get; init; } = "a {identifier} {class} on a {background} background, {position}";

    /// <summary>The template of the prompts with the identifier (subject and prompt fidelity).</summary>
    public string EvaluationPrompt { get; init; } = "a {size} {identifier} {class} on a {background} background, {position}";

    /// <summary>The template of the class prompts without the identifier (prior preservation and class fidelity).</summary>
    public string ClassPrompt { get; init; } = "a {size} {color} {class} on a {background} background, {position}";

    /// <summary>Reads and validates a benchmark spec.</summary>
    /// <param name="path">The TOML file.</param>
    /// <exception cref="ToySpecException">The file is unreadable or invalid; the message names the file and the field.</exception>
    public static BenchmarkSpec Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(ToySpecReader.ReadFile(path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Parses and validates a benchmark spec.</summary>
    /// <param name="toml">The TOML text.</param>
    /// <param name="source">The name used in error messages.</param>
    /// <param name="folder">The folder a relative <c>methods_from</c> path starts from (default: the current folder).</param>
    /// <exception cref="ToySpecException">The text is invalid; the message names the source and the field.</exception>
    public static BenchmarkSpec Parse(string toml, string source, string? folder = null)
    {
        ArgumentNullException.ThrowIfNull(toml);
        ArgumentNullException.ThrowIfNull(source);
        return Parse(ToySpecReader.ParseToml(toml, source), source, folder);
    }

    private static BenchmarkSpec Parse(Tomlyn.Model.TomlTable table, string source, string? folder)
    {
        var root = new ToySpecReader(table, source, "top level");
        root.RejectUnknown(Keys);
        var subject = ToySubjectSpec.Read(root.SubTable("subject"));
        var identifier = Word(root, "identifier");
        var classWord = Word(root, "class_word");
        var instances = Placements(root, "instances", subject);
        if (instances.Count == 0)
        {
            throw new ToySpecException($"{source}: no [[instances]]; add one table (background, size, position) per instance picture.");
        }

        var count = root.Integer("instance_count", instances.Count, 1, 10_000);
        if (count != instances.Count)
        {
            throw root.Error("instance_count", $"is {count} but there are {instances.Count} [[instances]] tables");
        }

        var evaluation = Placements(root, "evaluation", subject);
        if (evaluation.Count == 0)
        {
            throw new ToySpecException($"{source}: no [[evaluation]]; add one table (background, size, position) per evaluation prompt.");
        }

        var spec = new BenchmarkSpec
        {
            Source = source,
            Subject = subject,
            Identifier = identifier,
            ClassWord = classWord,
            ImageSize = (int)root.Integer("image_size", 32, 16, 1024),
            Seed = root.Integer("seed", 0, long.MinValue, long.MaxValue),
            ImagesPerPrompt = (int)root.Integer("images_per_prompt", 4, 1, 1000),
            Instances = instances,
            Evaluation = evaluation,
        };
        var rows = root.Tables("methods").Select(t => BenchmarkRowSpec.Read(t, new Training.BenchmarkSubject(identifier, classWord))).ToList();
        if (root.OptionalString("methods_from") is { } from)
        {
            rows = [.. MethodsFrom(root, from, folder, rows.Count)];
        }

        if (rows.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ToySpecException($"{source}: two [[methods]] are named \"{twice.Key}\"; give each row its own name.");
        }

        return spec with
        {
            Methods = rows,
            InstanceCaption = Template(root, "instance_caption", spec.InstanceCaption, requireIdentifier: true, allowColor: false),
            EvaluationPrompt = Template(root, "evaluation_prompt", spec.EvaluationPrompt, requireIdentifier: true, allowColor: false),
            ClassPrompt = Template(root, "class_prompt", spec.ClassPrompt, requireIdentifier: false, allowColor: true),
        };
    }

    /// <summary>The <c>[[methods]]</c> of the spec named by <c>methods_from</c>, which must have rows of its own.</summary>
    private static IReadOnlyList<BenchmarkRowSpec> MethodsFrom(ToySpecReader root, string from, string? folder, int ownRows)
    {
        if (ownRows > 0)
        {
            throw root.Error("methods_from", "cannot be combined with [[methods]] tables; give one or the other");
        }

        var path = Path.GetFullPath(from, folder ?? Directory.GetCurrentDirectory());
        if (!File.Exists(path))
        {
            throw root.Error("methods_from", $"names {path}, which does not exist");
        }

        var table = ToySpecReader.ParseToml(ToySpecReader.ReadFile(path), path);
        if (table.ContainsKey("methods_from"))
        {
            throw root.Error("methods_from", $"names {path}, which takes its rows from another spec in turn; name that one");
        }

        var rows = Parse(table, path, Path.GetDirectoryName(path)).Methods;
        return rows.Count > 0 ? rows : throw root.Error("methods_from", $"names {path}, which has no [[methods]] of its own");
    }

    /// <summary>The instance scenes (the subject at each instance placement, with seeded jitter) and their captions.</summary>
    public IReadOnlyList<(ToyScene Scene, string Caption)> InstanceImages()
    {
        var generator = new ToyWorldGenerator(ImageSize, Seed);
        return Instances.Select((p, i) => (generator.Jitter(Subject.Place(p), i), Fill(InstanceCaption, p, null))).ToList();
    }

    /// <summary>The prompts with the identifier, one per evaluation placement.</summary>
    public IReadOnlyList<BenchmarkPrompt> EvaluationPrompts() =>
        Evaluation.Select(p => new BenchmarkPrompt(Fill(EvaluationPrompt, p, null), p)).ToList();

    /// <summary>
    /// The class prompts (no identifier), one per evaluation placement, each with a class colour: the colours that are
    /// neither the subject's nor the background's, taken in turn.
    /// </summary>
    public IReadOnlyList<BenchmarkPrompt> ClassPrompts() =>
        Evaluation.Select((p, i) =>
        {
            var colors = ClassColors(p);
            var color = colors[i % colors.Count];
            return new BenchmarkPrompt(Fill(ClassPrompt, p, color), p) { ClassColor = color };
        }).ToList();

    /// <summary>The colours a class picture may be asked for on a placement: all but the subject's and the background.</summary>
    /// <param name="placement">The placement.</param>
    public IReadOnlyList<ToyColor> ClassColors(ToyPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        return [.. ToyPalette.Colors.Where(c => c != Subject.Color && c != Subject.SecondColor && c != placement.Background)];
    }

    /// <summary>The class prompt (no identifier) for one placement and class colour.</summary>
    /// <param name="placement">The background, size and position to ask for.</param>
    /// <param name="color">The colour to ask for.</param>
    public BenchmarkPrompt ClassPromptFor(ToyPlacement placement, ToyColor color)
    {
        ArgumentNullException.ThrowIfNull(placement);
        return new BenchmarkPrompt(Fill(ClassPrompt, placement, color), placement) { ClassColor = color };
    }

    private string Fill(string template, ToyPlacement p, ToyColor? color) => PlaceholderPattern().Replace(template, m => m.Groups[1].Value switch
    {
        "identifier" => Identifier,
        "class" => ClassWord,
        "size" => ToyNames.Of(p.Size),
        "background" => ToyNames.Of(p.Background),
        "position" => ToyNames.Of(p.Position),
        "color" when color is { } c => ToyNames.Of(c),
        _ => m.Value,
    });

    private static string Word(ToySpecReader root, string key)
    {
        var value = root.String(key).Trim();
        return value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '{' or '}')
            ? value
            : throw root.Error(key, $"must be one non-empty word, got \"{value}\"");
    }

    private static List<ToyPlacement> Placements(ToySpecReader root, string key, ToySubject subject)
    {
        var result = new List<ToyPlacement>();
        foreach (var table in root.Tables(key))
        {
            table.RejectUnknown(PlacementKeys);
            var placement = new ToyPlacement(table.Enum<ToyColor>("background"), table.Enum<ToySize>("size"), table.Enum<ToyPosition>("position"));
            if (placement.Background == subject.Color || placement.Background == subject.SecondColor)
            {
                throw table.Error("background", $"is {ToyNames.Of(placement.Background)}, a colour of the subject; the subject would not be visible");
            }

            result.Add(placement);
        }

        return result;
    }

    private static string Template(ToySpecReader root, string key, string fallback, bool requireIdentifier, bool allowColor)
    {
        var template = root.OptionalString(key) ?? fallback;
        foreach (Match m in PlaceholderPattern().Matches(template))
        {
            if (!Placeholders.Contains(m.Groups[1].Value, StringComparer.Ordinal))
            {
                throw root.Error(key, $"uses unknown placeholder {m.Value}; valid: {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))}");
            }

            if (m.Groups[1].Value == "color" && !allowColor)
            {
                throw root.Error(key, "must not contain {color} (only class prompts ask for a colour; the subject has its own)");
            }
        }

        if (requireIdentifier && !template.Contains("{identifier}", StringComparison.Ordinal))
        {
            throw root.Error(key, "must contain {identifier}");
        }

        if (requireIdentifier == false && template.Contains("{identifier}", StringComparison.Ordinal))
        {
            throw root.Error(key, "must not contain {identifier} (class prompts measure the model without the new concept)");
        }

        return template;
    }

    [GeneratedRegex(@"\{([a-z_]*)\}")]
    private static partial Regex PlaceholderPattern();
}
