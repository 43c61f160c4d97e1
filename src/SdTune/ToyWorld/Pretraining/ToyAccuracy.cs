namespace SdTune.ToyWorld.Pretraining;

/// <summary>How often generated pictures show what their prompts asked for, as read by <see cref="ToyEvaluator"/> (fractions in [0, 1]).</summary>
/// <param name="Split">"held-out" or "train".</param>
/// <param name="Count">How many pictures were scored.</param>
/// <param name="Shape">Right shape.</param>
/// <param name="Color">Right shape colour.</param>
/// <param name="Background">Right background colour.</param>
/// <param name="ShapeColorBackground">Shape, colour and background all right (the quality target).</param>
/// <param name="Size">Right size.</param>
/// <param name="Position">Right grid position.</param>
public sealed record ToyAccuracy(string Split, int Count, double Shape, double Color, double Background, double ShapeColorBackground, double Size, double Position);
