using SdTune.Options;

namespace SdTune.Training;

/// <summary>How a <see cref="TrainingConfig"/> key's value is written in TOML and held in the record.</summary>
public enum TrainingConfigKind
{
    /// <summary>A string.</summary>
    Text,

    /// <summary>A 32-bit integer.</summary>
    Integer,

    /// <summary>A 64-bit integer.</summary>
    Long,

    /// <summary>A number (double).</summary>
    Real,

    /// <summary>true or false.</summary>
    Flag,

    /// <summary>An array of strings (a space-separated list in an override).</summary>
    TextList,

    /// <summary>"no", "bf16" or "fp16".</summary>
    Precision,
}

/// <summary>
/// One key of <see cref="TrainingConfig"/>: its TOML name and type, whether it may be unset, whether it is a path
/// (resolved against the file's folder), the numeric range it accepts (checked in the precision the value is used in),
/// when it does not apply to a run (so the resolved configuration leaves it out), its help text and, when the method
/// subcommands of <c>sdtune train</c> offer it, its flag. The trainer's own keys are in <see cref="TrainingConfigKeys"/>;
/// a training method declares its keys as <see cref="TrainingOption{T}"/>s.
/// </summary>
/// <param name="Name">The TOML key, e.g. <c>network_dim</c>.</param>
/// <param name="Kind">The value's type.</param>
/// <param name="Nullable">Whether the key may be left unset.</param>
/// <param name="IsPath">Whether the value is a path, resolved against the configuration file's folder.</param>
/// <param name="Get">Reads the value from a configuration (its default when unset).</param>
/// <param name="Set">Returns the configuration with the value set.</param>
public record TrainingConfigKey(
    string Name,
    TrainingConfigKind Kind,
    bool Nullable,
    bool IsPath,
    Func<TrainingConfig, object?> Get,
    Func<TrainingConfig, object?, TrainingConfig> Set)
{
    /// <summary>The values a numeric key accepts; null for keys that are not numbers.</summary>
    public NumericRange? Range { get; init; }

    /// <summary>Why the key does not apply to a configuration ("applies to dreambooth"), or null when it does.</summary>
    public Func<TrainingConfig, string?> NotUsed { get; init; } = _ => null;

    /// <summary>
    /// A check of the value beyond <see cref="Range"/>, made whether or not the key applies to the run: null when the
    /// value is fine, else what is wrong with it.
    /// </summary>
    public Func<object, string?> Check { get; init; } = _ => null;

    /// <summary>One line of help, shown by <c>sdtune train &lt;method&gt; --help</c>.</summary>
    public string Help { get; init; } = "";

    /// <summary>
    /// The flag of the method subcommands (<c>--model</c> for <c>pretrained_model</c>), or null when the key is only
    /// read from files and overrides. A method's own keys are always offered, as <c>--</c> and the name with dashes.
    /// </summary>
    public string? Flag { get; init; }
}
