namespace SdTune.Pipelines.Grids;

/// <summary>What values an axis type takes.</summary>
public enum XyzValueKind
{
    /// <summary>Whole numbers and their ranges.</summary>
    Integer,

    /// <summary>Real numbers and their ranges.</summary>
    Number,

    /// <summary>Text: a comma-separated list (CSV quoting).</summary>
    Text,
}

/// <summary>
/// A kind of X/Y/Z axis: a generation setting and how a value sets it. Registered in <see cref="XyzAxisTypes"/>.
/// </summary>
/// <param name="Name">The name as A1111 shows it (<c>CFG Scale</c>), also the label prefix (<c>CFG Scale: 7</c>).</param>
/// <param name="Alias">The kebab-case name for the command line (<c>cfg</c>).</param>
/// <param name="Kind">How the values are read.</param>
/// <param name="Apply">Sets the value in a cell.</param>
public sealed record XyzAxisType(string Name, string Alias, XyzValueKind Kind, Func<GridCell, XyzValue, GridCell> Apply)
{
    /// <summary>Checks and settles the values read from the command line (names resolved, files found, random seeds drawn).</summary>
    public Func<IReadOnlyList<XyzValue>, XyzAxisContext, IReadOnlyList<XyzValue>>? Prepare { get; init; }

    /// <summary>Whether a label is the bare value (<c>Euler a</c>) rather than <c>Name: value</c>.</summary>
    public bool BareLabel { get; init; }

    /// <summary>The label of a value: <c>CFG Scale: 7</c>, or the value alone.</summary>
    public string Label(XyzValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return BareLabel ? value.Text : $"{Name}: {value.Text}";
    }
}

/// <summary>What preparing an axis's values may look at.</summary>
/// <param name="BaseRequest">The settings every cell starts from (Prompt S/R searches its prompts).</param>
/// <param name="LoraFolder">The folder LoRA names are looked up in; null for paths only.</param>
/// <param name="RandomSeed">Draws a seed for a value of -1.</param>
public sealed record XyzAxisContext(GenerationRequest BaseRequest, string? LoraFolder, Func<long> RandomSeed);
