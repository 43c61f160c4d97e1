namespace SdTune.ToyWorld;

/// <summary>
/// One picture of the toy world: a shape of one colour (or a two-colour pattern) on a plain background, with a size
/// and a 3×3 grid position. <see cref="ToyWorldGenerator.Render"/> draws it; <see cref="ToCaption"/> describes it.
/// </summary>
/// <param name="Shape">The shape.</param>
/// <param name="Color">The shape's (first) colour.</param>
/// <param name="Background">The background colour; never the shape's colour.</param>
/// <param name="Size">The size.</param>
/// <param name="Position">The grid cell of the shape's centre.</param>
public sealed record ToyScene(ToyShape Shape, ToyColor Color, ToyColor Background, ToySize Size, ToyPosition Position)
{
    /// <summary>Horizontal offset of the shape's centre from its nominal place, as a fraction of the image side (at most 0.03 either way).</summary>
    public double JitterX { get; init; }

    /// <summary>Vertical offset of the shape's centre from its nominal place, as a fraction of the image side (at most 0.03 either way).</summary>
    public double JitterY { get; init; }

    /// <summary>The fill pattern (<see cref="ToyPattern.Solid"/> in the pretraining world).</summary>
    public ToyPattern Pattern { get; init; } = ToyPattern.Solid;

    /// <summary>The pattern's second colour; null exactly when the pattern is <see cref="ToyPattern.Solid"/>.</summary>
    public ToyColor? SecondColor { get; init; }

    /// <summary>The caption of the scene in one of several phrasings.</summary>
    /// <param name="style">The phrasing.</param>
    /// <returns>For example "a large red star on a blue background, top left".</returns>
    public string ToCaption(ToyCaptionStyle style = ToyCaptionStyle.Full)
    {
        var thing = $"{ColorPhrase(Color, Pattern, SecondColor)} {ToyNames.Of(Shape)}";
        var size = ToyNames.Of(Size);
        var background = ToyNames.Of(Background);
        var position = ToyNames.Of(Position);
        return style switch
        {
            ToyCaptionStyle.Full => $"a {size} {thing} on a {background} background, {position}",
            ToyCaptionStyle.Short => $"{Article(thing)} {thing} on {background}",
            ToyCaptionStyle.NoPosition => $"a {size} {thing} on a {background} background",
            ToyCaptionStyle.Tags => $"{thing}, {background} background, {size}, {position}",
            _ => throw new ArgumentOutOfRangeException(nameof(style), style, "Unknown caption style."),
        };
    }

    /// <summary>The full caption.</summary>
    public override string ToString() => ToCaption();

    /// <summary>Checks the scene can be drawn and read back unambiguously.</summary>
    /// <exception cref="ArgumentException">The background equals a shape colour, the second colour does not fit the pattern, or the jitter is too large.</exception>
    public void Validate()
    {
        if (Background == Color || Background == SecondColor)
        {
            throw new ArgumentException($"Scene \"{this}\": the background colour {ToyNames.Of(Background)} must differ from the shape's colours.");
        }

        if ((Pattern == ToyPattern.Solid) != (SecondColor is null))
        {
            throw new ArgumentException($"Scene \"{this}\": a {ToyNames.Of(Pattern)} fill {(Pattern == ToyPattern.Solid ? "takes no" : "needs a")} second colour.");
        }

        if (SecondColor == Color)
        {
            throw new ArgumentException($"Scene \"{this}\": the second colour must differ from the first.");
        }

        if (Math.Abs(JitterX) > ToyLayout.MaxJitter || Math.Abs(JitterY) > ToyLayout.MaxJitter || !double.IsFinite(JitterX) || !double.IsFinite(JitterY))
        {
            throw new ArgumentException($"Scene \"{this}\": jitter ({JitterX}, {JitterY}) exceeds {ToyLayout.MaxJitter} of the image side.");
        }
    }

    /// <summary>"red", "half red half yellow" or "red and yellow striped".</summary>
    internal static string ColorPhrase(ToyColor color, ToyPattern pattern, ToyColor? second) => pattern switch
    {
        ToyPattern.Solid => ToyNames.Of(color),
        ToyPattern.Halves => $"half {ToyNames.Of(color)} half {Name(second)}",
        _ => $"{ToyNames.Of(color)} and {Name(second)} {ToyNames.Of(pattern)}",
    };

    internal static string Article(string phrase) => phrase.Length > 0 && "aeiou".Contains(phrase[0], StringComparison.Ordinal) ? "an" : "a";

    private static string Name(ToyColor? color) => color is { } c ? ToyNames.Of(c) : "?";
}
