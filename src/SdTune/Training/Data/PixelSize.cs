namespace SdTune.Training.Data;

/// <summary>A width and height in pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct PixelSize(int Width, int Height)
{
    /// <summary>Width divided by height.</summary>
    public double AspectRatio => (double)Width / Height;

    /// <summary>Width times height.</summary>
    public long Area => (long)Width * Height;

    /// <inheritdoc/>
    public override string ToString() => $"{Width}x{Height}";
}
