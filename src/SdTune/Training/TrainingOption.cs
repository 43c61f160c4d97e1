using SdTune.Options;

namespace SdTune.Training;

/// <summary>
/// A key a training method declares in its own file (see <see cref="TrainingMethodDefinition.Options"/>): read from the
/// TOML configuration, from <c>key=value</c> overrides and from the <c>sdtune train &lt;method&gt;</c> flag generated
/// from it, validated against its range, written back by <see cref="TrainingConfig.ToToml"/>, and read by the method
/// with <see cref="Value"/>. Create one with the factories of <see cref="TrainingOption"/>.
/// </summary>
/// <typeparam name="T">The value's type.</typeparam>
public sealed record TrainingOption<T> : TrainingConfigKey
{
    internal TrainingOption(string name, TrainingConfigKind kind, bool nullable, bool isPath, T defaultValue, string help)
        : base(name, kind, nullable, isPath, c => c.MethodOptions.Get(name, defaultValue), (c, v) => c with { MethodOptions = c.MethodOptions.With(name, v, defaultValue) })
    {
        Default = defaultValue;
        Help = help;
        Flag = "--" + name.Replace('_', '-');
    }

    /// <summary>The value when the configuration does not set the key.</summary>
    public T Default { get; }

    /// <summary>The key's value in <paramref name="config"/> (<see cref="Default"/> when unset).</summary>
    public T Value(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return (T)Get(config)!;
    }
}

/// <summary>Factories of <see cref="TrainingOption{T}"/>, one per kind of value.</summary>
public static class TrainingOption
{
    /// <summary>An integer key checked against <paramref name="range"/>.</summary>
    public static TrainingOption<int> Integer(string name, int defaultValue, NumericRange range, string help) =>
        new(name, TrainingConfigKind.Integer, false, false, defaultValue, help) { Range = range };

    /// <summary>A number checked against <paramref name="range"/>.</summary>
    public static TrainingOption<double> Real(string name, double defaultValue, NumericRange range, string help) =>
        new(name, TrainingConfigKind.Real, false, false, defaultValue, help) { Range = range };

    /// <summary>A number that may be left unset, checked against <paramref name="range"/> when set.</summary>
    public static TrainingOption<double?> OptionalReal(string name, NumericRange range, string help) =>
        new(name, TrainingConfigKind.Real, true, false, null, help) { Range = range };

    /// <summary>A true/false key.</summary>
    public static TrainingOption<bool> Flag(string name, bool defaultValue, string help) =>
        new(name, TrainingConfigKind.Flag, false, false, defaultValue, help);

    /// <summary>A string key.</summary>
    public static TrainingOption<string> Text(string name, string defaultValue, string help) =>
        new(name, TrainingConfigKind.Text, false, false, defaultValue, help);

    /// <summary>A file or folder that may be left unset; a relative path in a file is resolved against the file's folder.</summary>
    public static TrainingOption<string?> Path(string name, string help) =>
        new(name, TrainingConfigKind.Text, true, true, null, help);

    /// <summary>A list of strings (a TOML array; a space-separated list in an override or flag).</summary>
    public static TrainingOption<IReadOnlyList<string>> List(string name, string help) =>
        new(name, TrainingConfigKind.TextList, false, false, [], help);
}
