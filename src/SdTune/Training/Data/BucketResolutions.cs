namespace SdTune.Training.Data;

/// <summary>The predefined aspect-ratio buckets of sd-scripts (used when <c>bucket_no_upscale</c> is off).</summary>
public static class BucketResolutions
{
    /// <summary>
    /// The buckets for a base resolution: the square <c>(floor(sqrt(area)/s)*s)²</c>, then for each width from
    /// <paramref name="minSize"/> to <paramref name="maxSize"/> in steps of <paramref name="steps"/> the height
    /// <c>min(maxSize, floor(area/width/s)*s)</c>, kept (with its transpose) when at least <paramref name="minSize"/>.
    /// </summary>
    /// <param name="resolution">The base resolution; its area is the target area.</param>
    /// <param name="minSize">The smallest side (<c>min_bucket_reso</c>).</param>
    /// <param name="maxSize">The largest side (<c>max_bucket_reso</c>).</param>
    /// <param name="steps">The side multiple (<c>bucket_reso_steps</c>).</param>
    /// <returns>Distinct buckets sorted by width, then height.</returns>
    public static IReadOnlyList<PixelSize> Make(PixelSize resolution, int minSize, int maxSize, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, minSize);
        var maxArea = resolution.Area;
        var set = new HashSet<PixelSize>();
        var square = (int)(Math.Floor(Math.Sqrt(maxArea) / steps) * steps);
        set.Add(new PixelSize(square, square));
        for (var width = minSize; width <= maxSize; width += steps)
        {
            var height = (int)Math.Min(maxSize, maxArea / width / steps * steps);
            if (height >= minSize)
            {
                set.Add(new PixelSize(width, height));
                set.Add(new PixelSize(height, width));
            }
        }

        return set.OrderBy(b => b.Width).ThenBy(b => b.Height).ToList();
    }
}
