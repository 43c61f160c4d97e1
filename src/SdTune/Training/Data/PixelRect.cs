namespace SdTune.Training.Data;

/// <summary>A rectangle in pixels: the part of a resized image kept for training.</summary>
/// <param name="Left">Left edge (inclusive).</param>
/// <param name="Top">Top edge (inclusive).</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct PixelRect(int Left, int Top, int Width, int Height)
{
    /// <summary>The size of the rectangle.</summary>
    public PixelSize Size => new(Width, Height);

    /// <inheritdoc/>
    public override string ToString() => $"{Width}x{Height}+{Left}+{Top}";
}
