namespace SdTune.ToyWorld;

/// <summary>The shapes of the toy world. Every shape is drawn so that its larger side equals the scene's size.</summary>
public enum ToyShape
{
    /// <summary>A filled disc.</summary>
    Circle,

    /// <summary>An axis-aligned filled square.</summary>
    Square,

    /// <summary>An equilateral triangle pointing up.</summary>
    Triangle,

    /// <summary>A five-pointed star pointing up.</summary>
    Star,

    /// <summary>A heart.</summary>
    Heart,

    /// <summary>A plus sign.</summary>
    Cross,

    /// <summary>A disc with a round hole.</summary>
    Ring,

    /// <summary>A rhombus standing on a corner, a little narrower than tall.</summary>
    Diamond,
}
