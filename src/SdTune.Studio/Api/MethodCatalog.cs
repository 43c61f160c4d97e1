using SdTune.Training;
using SdTune.Training.Methods;

namespace SdTune.Studio.Api;

/// <summary>A training method as <c>GET /api/methods</c> describes it.</summary>
/// <param name="Name">The name in <c>method</c>.</param>
/// <param name="Summary">One line about it.</param>
/// <param name="Keys">Its own keys.</param>
public sealed record MethodInfo(string Name, string Summary, IReadOnlyList<KeyInfo> Keys);

/// <summary>A training key, from its declaration.</summary>
/// <param name="Name">The TOML key.</param>
/// <param name="Type">text, path, integer, long, real, flag, text_list or precision.</param>
/// <param name="Nullable">Whether the key may be left unset.</param>
/// <param name="Default">The value when unset.</param>
/// <param name="Range">The numbers it accepts; null for keys that are not numbers.</param>
/// <param name="Help">One line of help.</param>
/// <param name="Flag">The flag of <c>sdtune train &lt;method&gt;</c>, when there is one.</param>
public sealed record KeyInfo(string Name, string Type, bool Nullable, object? Default, RangeInfo? Range, string Help, string? Flag);

/// <summary>The numbers a key accepts.</summary>
/// <param name="Min">The lower bound.</param>
/// <param name="Max">The upper bound.</param>
/// <param name="MinExclusive">The lower bound itself is refused.</param>
/// <param name="MaxExclusive">The upper bound itself is refused.</param>
/// <param name="MultipleOf">Values must be multiples of this.</param>
/// <param name="Integer">Only whole numbers.</param>
/// <param name="Text">The range in words, as messages write it.</param>
public sealed record RangeInfo(double Min, double Max, bool MinExclusive, bool MaxExclusive, int MultipleOf, bool Integer, string Text);

/// <summary>The answer of <c>GET /api/methods</c>.</summary>
/// <param name="Methods">Every registered method with its own keys.</param>
/// <param name="CommonKeys">The trainer's keys, shared by every method.</param>
public sealed record MethodCatalogInfo(IReadOnlyList<MethodInfo> Methods, IReadOnlyList<KeyInfo> CommonKeys);

/// <summary>Describes the training methods from their declarations (<see cref="TrainingMethods"/>, <see cref="TrainingConfigKeys"/>): the same ones the CLI reads.</summary>
public static class MethodCatalog
{
    /// <summary>Every registered method and the trainer's common keys.</summary>
    public static MethodCatalogInfo Describe() => new(
        [.. TrainingMethods.All.Select(m => new MethodInfo(m.Name, m.Summary, [.. m.Options.Select(Key)]))],
        [.. TrainingConfigKeys.Common.Select(Key)]);

    /// <summary>One key: its default is the value an empty configuration reads.</summary>
    public static KeyInfo Key(TrainingConfigKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new KeyInfo(key.Name, TypeName(key), key.Nullable, Json(key.Get(new TrainingConfig())), key.Range is { } r
            ? new RangeInfo(r.Min, r.Max, r.MinExclusive, r.MaxExclusive, r.MultipleOf, r.Type is Options.NumberType.Int32 or Options.NumberType.Int64, r.Describe())
            : null, key.Help, key.Flag);
    }

    private static string TypeName(TrainingConfigKey key) => key.IsPath ? "path" : key.Kind switch
    {
        TrainingConfigKind.Text => "text",
        TrainingConfigKind.Integer => "integer",
        TrainingConfigKind.Long => "long",
        TrainingConfigKind.Real => "real",
        TrainingConfigKind.Flag => "flag",
        TrainingConfigKind.TextList => "text_list",
        _ => "precision",
    };

    private static object? Json(object? value) => value switch
    {
        MixedPrecision.No => "no",
        MixedPrecision.BFloat16 => "bf16",
        MixedPrecision.Float16 => "fp16",
        _ => value,
    };
}
