namespace SdTune.ToyWorld.Pretraining;

/// <summary>How often generated pictures show what their prompts asked for, as read by <see cref="ToyEvaluator"/> (fractions in [0, 1]).</summary>
/// <param name="Split">The prompt set ("held-out", "train", "held-out patterns", "train patterns").</param>
/// <param name="Count">How many pictures were scored.</param>
/// <param name="Shape">Right shape.</param>
/// <param name="Color">Right shape colour.</param>
/// <param name="Background">Right background colour.</param>
/// <param name="ShapeColorBackground">Shape, colour and background all right (the quality target).</param>
/// <param name="Size">Right size.</param>
/// <param name="Position">Right grid position.</param>
/// <param name="Fill">Right fill: solid, or the prompted pattern in the prompted second colour.</param>
public sealed record ToyAccuracy(string Split, int Count, double Shape, double Color, double Background, double ShapeColorBackground, double Size, double Position, double Fill)
{
    /// <summary>Scores evaluator matches.</summary>
    /// <param name="split">The label of the set.</param>
    /// <param name="matches">One match per picture (at least one).</param>
    public static ToyAccuracy Of(string split, IReadOnlyList<ToySceneMatch> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        ArgumentOutOfRangeException.ThrowIfZero(matches.Count);
        double Rate(Func<ToySceneMatch, bool> hit) => matches.Count(hit) / (double)matches.Count;
        return new ToyAccuracy(split, matches.Count, Rate(m => m.Shape), Rate(m => m.Color), Rate(m => m.Background),
            Rate(m => m.Shape && m.Color && m.Background), Rate(m => m.Size), Rate(m => m.Position), Rate(m => m.Fill));
    }

    /// <summary>One line: shape, colour, background, all three, size, position, fill.</summary>
    public override string ToString() =>
        $"{Split}: shape {Shape:P0}, colour {Color:P0}, background {Background:P0}, all three {ShapeColorBackground:P0}, size {Size:P0}, position {Position:P0}, fill {Fill:P0} ({Count} pictures)";
}
