namespace SdTune.ToyWorld;

/// <summary>
/// A concept for the fine-tuning benchmark: a shape with a colour and a fill the base model never saw (for example a
/// red and yellow striped star). It can be drawn on any background, size and position with <see cref="Place"/>.
/// </summary>
/// <param name="Name">A short name for reports ("striped star").</param>
/// <param name="Shape">The shape.</param>
/// <param name="Color">The first colour.</param>
/// <param name="Pattern">The fill pattern.</param>
/// <param name="SecondColor">The pattern's second colour; null exactly for <see cref="ToyPattern.Solid"/>.</param>
public sealed record ToySubject(string Name, ToyShape Shape, ToyColor Color, ToyPattern Pattern, ToyColor? SecondColor)
{
    /// <summary>The subject's look in words ("red and yellow striped star").</summary>
    public string Description => $"{ToyScene.ColorPhrase(Color, Pattern, SecondColor)} {ToyNames.Of(Shape)}";

    /// <summary>The scene showing the subject at a placement, without jitter.</summary>
    /// <param name="placement">Background, size and position.</param>
    /// <exception cref="ArgumentException">The background is one of the subject's colours.</exception>
    public ToyScene Place(ToyPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        var scene = new ToyScene(Shape, Color, placement.Background, placement.Size, placement.Position)
        {
            Pattern = Pattern,
            SecondColor = SecondColor,
        };
        scene.Validate();
        return scene;
    }
}
