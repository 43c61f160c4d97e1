namespace SdTune.Pipelines.Grids;

/// <summary>One value of an X/Y/Z axis.</summary>
/// <param name="Text">The value as its label shows it (a number in A1111's format, a sampler's display name, a file's name).</param>
public sealed record XyzValue(string Text)
{
    /// <summary>The value of a real-valued axis (and the weight of a LoRA file value).</summary>
    public double Number { get; init; }

    /// <summary>The value of an integer axis.</summary>
    public long Integer { get; init; }

    /// <summary>The file a LoRA or checkpoint value resolves to; null for none.</summary>
    public string? Path { get; init; }

    /// <summary>Prompt S/R: the text each value replaces (the axis's first value).</summary>
    public string? Search { get; init; }
}
