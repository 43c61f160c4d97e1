namespace SdTune.ToyWorld;

/// <summary>Which attributes of a reading agree with an expected scene.</summary>
/// <param name="Shape">The shape agrees.</param>
/// <param name="Color">The (first) shape colour agrees.</param>
/// <param name="Background">The background colour agrees.</param>
/// <param name="Size">The size agrees.</param>
/// <param name="Position">The position agrees.</param>
/// <param name="Fill">The pattern and second colour agree (solid with no second colour for a solid scene).</param>
public sealed record ToySceneMatch(bool Shape, bool Color, bool Background, bool Size, bool Position, bool Fill)
{
    /// <summary>Every attribute agrees.</summary>
    public bool All => Shape && Color && Background && Size && Position && Fill;
}
