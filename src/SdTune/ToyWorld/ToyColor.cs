namespace SdTune.ToyWorld;

/// <summary>The named colours of the toy world (shapes and backgrounds); <see cref="ToyPalette"/> gives their RGB values.</summary>
public enum ToyColor
{
    /// <summary>Red.</summary>
    Red,

    /// <summary>Green.</summary>
    Green,

    /// <summary>Blue.</summary>
    Blue,

    /// <summary>Yellow.</summary>
    Yellow,

    /// <summary>Purple.</summary>
    Purple,

    /// <summary>Orange.</summary>
    Orange,

    /// <summary>White.</summary>
    White,

    /// <summary>Black.</summary>
    Black,
}
