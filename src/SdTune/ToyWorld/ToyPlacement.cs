namespace SdTune.ToyWorld;

/// <summary>Where and how a subject is shown: the background, size and position of one picture.</summary>
/// <param name="Background">The background colour.</param>
/// <param name="Size">The shape's size.</param>
/// <param name="Position">The grid cell of the shape's centre.</param>
public sealed record ToyPlacement(ToyColor Background, ToySize Size, ToyPosition Position);
