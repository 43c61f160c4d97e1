namespace SdTune.ToyWorld;

/// <summary>
/// How a shape is filled. Everything but <see cref="Solid"/> uses a second colour, laid out relative to the shape's
/// bounding box, so the pattern scales with the shape. The base model's world has only solid shapes; the patterns are
/// the new concepts of the fine-tuning benchmark.
/// </summary>
public enum ToyPattern
{
    /// <summary>One colour.</summary>
    Solid,

    /// <summary>Five horizontal bands: colour, second colour, colour, second colour, colour.</summary>
    Striped,

    /// <summary>The colour with a 3×3 grid of second-colour dots.</summary>
    Dotted,

    /// <summary>A 4×4 checkerboard of the two colours.</summary>
    Checkered,

    /// <summary>Left half the colour, right half the second colour.</summary>
    Halves,
}
