namespace SdTune.ToyWorld;

/// <summary>A (shape, colour, background) triple: the unit the train / held-out split works on.</summary>
/// <param name="Shape">The shape.</param>
/// <param name="Color">The shape's colour.</param>
/// <param name="Background">The background colour.</param>
public readonly record struct ToyCombination(ToyShape Shape, ToyColor Color, ToyColor Background);
