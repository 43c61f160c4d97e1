namespace SdTune.ToyWorld;

/// <summary>The cell of a 3×3 grid the shape's centre lies in.</summary>
public enum ToyPosition
{
    /// <summary>Top left cell.</summary>
    TopLeft,

    /// <summary>Top middle cell.</summary>
    Top,

    /// <summary>Top right cell.</summary>
    TopRight,

    /// <summary>Middle left cell.</summary>
    Left,

    /// <summary>The centre cell.</summary>
    Center,

    /// <summary>Middle right cell.</summary>
    Right,

    /// <summary>Bottom left cell.</summary>
    BottomLeft,

    /// <summary>Bottom middle cell.</summary>
    Bottom,

    /// <summary>Bottom right cell.</summary>
    BottomRight,
}
