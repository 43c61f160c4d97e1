using System.Globalization;
using SdTune.Schedulers;

namespace SdTune.Pipelines.Grids;

/// <summary>
/// The X/Y/Z axis types, one line each. A cell applies its axes' values in this order whatever axis they are on, so
/// a LoRA weight applies to the LoRA file an axis adds.
/// </summary>
public static class XyzAxisTypes
{
    private static readonly XyzAxisType[] Entries =
    [
        new("Seed", "seed", XyzValueKind.Integer, (c, v) => Set(c, r => r with { Seed = v.Integer })) { Prepare = DrawRandomSeeds },
        new("Steps", "steps", XyzValueKind.Integer, (c, v) => Set(c, r => r with { Steps = (int)Math.Clamp(v.Integer, int.MinValue, int.MaxValue) })),
        new("CFG Scale", "cfg", XyzValueKind.Number, (c, v) => Set(c, r => r with { CfgScale = v.Number })),
        new("Sampler", "sampler", XyzValueKind.Text, (c, v) => Set(c, r => r with { Sampler = v.Text })) { Prepare = ResolveSamplers, BareLabel = true },
        new("Prompt S/R", "prompt-sr", XyzValueKind.Text, (c, v) => Set(c, r => r with { Prompt = Replace(r.Prompt, v), NegativePrompt = Replace(r.NegativePrompt, v) })) { Prepare = SearchFirst, BareLabel = true },
        new("Clip skip", "clip-skip", XyzValueKind.Integer, (c, v) => Set(c, r => r with { ClipSkip = (int)Math.Clamp(v.Integer, int.MinValue, int.MaxValue) })),
        new("Denoising", "denoising", XyzValueKind.Number, (c, v) => Set(c, r => r with { Strength = v.Number })),
        new("Checkpoint name", "checkpoint", XyzValueKind.Text, (c, v) => c with { Checkpoint = v.Path }) { Prepare = FindCheckpoints, BareLabel = true },
        new("LoRA file", "lora", XyzValueKind.Text, (c, v) => v.Path is null ? c : Set(c, r => r with { Loras = [.. r.Loras, (v.Path, v.Number)] })) { Prepare = FindLoras, BareLabel = true },
        new("LoRA weight", "lora-weight", XyzValueKind.Number, (c, v) => Set(c, r => r with { Loras = [.. r.Loras.Select(l => (l.NameOrPath, v.Number))] })),
    ];

    /// <summary>Every axis type, in the order cells apply them.</summary>
    public static IReadOnlyList<XyzAxisType> All => Entries;

    /// <summary>The valid names, for messages and help: <c>"CFG Scale" (cfg)</c>, ...</summary>
    public static string Valid => string.Join(", ", Entries.Select(e => $"\"{e.Name}\" ({e.Alias})"));

    /// <summary>The type a name (A1111's name or the alias, any case) stands for; null if none.</summary>
    public static XyzAxisType? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim();
        return Entries.FirstOrDefault(e => string.Equals(e.Name, key, StringComparison.OrdinalIgnoreCase) || string.Equals(e.Alias, key, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Where a type stands in <see cref="All"/>.</summary>
    internal static int OrderOf(XyzAxisType type) => Array.IndexOf(Entries, type);

    private static GridCell Set(GridCell cell, Func<GenerationRequest, GenerationRequest> change) => cell with { Request = change(cell.Request) };

    private static string Replace(string text, XyzValue value) =>
        value.Search is { Length: > 0 } search ? text.Replace(search, value.Text, StringComparison.Ordinal) : text;

    /// <summary>-1 is a random seed, drawn now so the label shows it.</summary>
    private static IReadOnlyList<XyzValue> DrawRandomSeeds(IReadOnlyList<XyzValue> values, XyzAxisContext context) =>
        [.. values.Select(v => v.Integer >= 0 ? v : Integer(context.RandomSeed()))];

    private static IReadOnlyList<XyzValue> ResolveSamplers(IReadOnlyList<XyzValue> values, XyzAxisContext context) =>
        [.. values.Select(v => new XyzValue(SamplerRegistry.Resolve(v.Text)))];

    /// <summary>The first value is the text searched for (A1111: it must be in the prompt or the negative prompt); every value replaces it.</summary>
    private static IReadOnlyList<XyzValue> SearchFirst(IReadOnlyList<XyzValue> values, XyzAxisContext context)
    {
        var search = values[0].Text;
        if (search.Length == 0 || (!context.BaseRequest.Prompt.Contains(search, StringComparison.Ordinal) && !context.BaseRequest.NegativePrompt.Contains(search, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"Prompt S/R: the first value '{search}' is not in the prompt or the negative prompt; the first value is the text each value replaces.");
        }

        return [.. values.Select(v => v with { Search = search })];
    }

    private static IReadOnlyList<XyzValue> FindCheckpoints(IReadOnlyList<XyzValue> values, XyzAxisContext context) =>
        [.. values.Select(v => File.Exists(v.Text) || Directory.Exists(v.Text)
            ? new XyzValue(Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(v.Text))) { Path = v.Text }
            : throw new FileNotFoundException($"checkpoint '{v.Text}' not found (a single-file checkpoint or a diffusers folder).", v.Text))];

    /// <summary>FILE or NAME (looked up in the LoRA folder), with an optional <c>:weight</c> (1 without); <c>none</c> adds no LoRA.</summary>
    private static IReadOnlyList<XyzValue> FindLoras(IReadOnlyList<XyzValue> values, XyzAxisContext context)
    {
        var library = context.LoraFolder is { } folder ? LoraLibrary.Load(folder) : LoraLibrary.None;
        return [.. values.Select(v =>
        {
            if (v.Text.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                return new XyzValue("no LoRA");
            }

            var (name, weight) = (v.Text, 1.0);
            var colon = v.Text.LastIndexOf(':');
            if (colon > 0 && double.TryParse(v.Text[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
            {
                (name, weight) = (v.Text[..colon], w);
            }

            var path = library.Resolve(name);
            var label = Path.GetFileNameWithoutExtension(name);
            return new XyzValue(weight == 1 ? label : $"{label}:{weight.ToString("R", CultureInfo.InvariantCulture)}") { Path = path, Number = weight };
        })];
    }

    private static XyzValue Integer(long value) => new(value.ToString(CultureInfo.InvariantCulture)) { Integer = value };
}
