namespace SdTune.ToyWorld;

/// <summary>How large the shape is: its larger side is 25%, 36% or 50% of the image side.</summary>
public enum ToySize
{
    /// <summary>A quarter of the image side.</summary>
    Small,

    /// <summary>36% of the image side.</summary>
    Medium,

    /// <summary>Half the image side.</summary>
    Large,
}
