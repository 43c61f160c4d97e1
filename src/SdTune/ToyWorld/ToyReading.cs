namespace SdTune.ToyWorld;

/// <summary>
/// What <see cref="ToyEvaluator"/> read from an image: each attribute with a confidence in [0, 1] (1: unambiguous).
/// An attribute is null when it could not be read (no shape found, or a two-colour fill that matches no pattern).
/// </summary>
public sealed record ToyReading
{
    /// <summary>The background colour (always read: the most common colour of the border).</summary>
    public required ToyColor Background { get; init; }

    /// <summary>The share of border pixels nearest to <see cref="Background"/>.</summary>
    public double BackgroundConfidence { get; init; }

    /// <summary>The shape's (first) colour, or null when no shape was found.</summary>
    public ToyColor? Color { get; init; }

    /// <summary>The share of the shape's colour votes that went to <see cref="Color"/>.</summary>
    public double ColorConfidence { get; init; }

    /// <summary>The fill pattern; null when a second colour is present but matches no known pattern.</summary>
    public ToyPattern? Pattern { get; init; }

    /// <summary>For a pattern, how well the second colour's layout correlates with it; for solid, how little second colour there is.</summary>
    public double PatternConfidence { get; init; }

    /// <summary>The second colour of a two-colour fill; null for a solid shape.</summary>
    public ToyColor? SecondColor { get; init; }

    /// <summary>The shape, or null when no shape was found.</summary>
    public ToyShape? Shape { get; init; }

    /// <summary>The margin between the nearest template of the shape and the nearest of any other shape.</summary>
    public double ShapeConfidence { get; init; }

    /// <summary>The size, or null when no shape was found.</summary>
    public ToySize? Size { get; init; }

    /// <summary>The margin between the nearest and second-nearest size.</summary>
    public double SizeConfidence { get; init; }

    /// <summary>The grid position of the shape's bounding-box centre, or null when no shape was found.</summary>
    public ToyPosition? Position { get; init; }

    /// <summary>The margin between the nearest and second-nearest cell (the smaller of the two axes).</summary>
    public double PositionConfidence { get; init; }

    /// <summary>Compares each attribute with an expected scene.</summary>
    /// <param name="expected">The scene the image should show.</param>
    public ToySceneMatch Matches(ToyScene expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return new ToySceneMatch(
            Shape == expected.Shape,
            Color == expected.Color,
            Background == expected.Background,
            Size == expected.Size,
            Position == expected.Position,
            Pattern == expected.Pattern && SecondColor == expected.SecondColor);
    }

    /// <summary>The reading in words, for logs and reports.</summary>
    public override string ToString()
    {
        if (Shape is not { } shape || Color is not { } color)
        {
            return $"no shape on {ToyNames.Of(Background)}";
        }

        var fill = Pattern is { } pattern ? ToyScene.ColorPhrase(color, pattern, SecondColor) : $"{ToyNames.Of(color)} and {(SecondColor is { } s ? ToyNames.Of(s) : "?")} patterned";
        return $"a {(Size is { } size ? ToyNames.Of(size) : "?")} {fill} {ToyNames.Of(shape)} on a {ToyNames.Of(Background)} background, {(Position is { } p ? ToyNames.Of(p) : "?")}";
    }
}
