namespace SdTune.Training.Data;

/// <summary>Where one image goes: its bucket, the size it is resized to before cropping, and the aspect-ratio error.</summary>
/// <param name="Bucket">The bucket (training size).</param>
/// <param name="ResizedSize">The size the image is resized to; it covers the bucket, and the excess is cropped.</param>
/// <param name="AspectRatioError">Bucket aspect ratio minus image aspect ratio.</param>
public readonly record struct BucketAssignment(PixelSize Bucket, PixelSize ResizedSize, double AspectRatioError)
{
    /// <summary>The centred crop of the resized image (offsets rounded down).</summary>
    public PixelRect CenterCrop() =>
        new(Math.Max(0, ResizedSize.Width - Bucket.Width) / 2, Math.Max(0, ResizedSize.Height - Bucket.Height) / 2, Bucket.Width, Bucket.Height);

    /// <summary>A crop at a uniformly random offset (each axis independently, every offset equally likely).</summary>
    /// <param name="random">The random source.</param>
    public PixelRect RandomCrop(IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var left = random.NextInt(Math.Max(0, ResizedSize.Width - Bucket.Width) + 1);
        var top = random.NextInt(Math.Max(0, ResizedSize.Height - Bucket.Height) + 1);
        return new PixelRect(left, top, Bucket.Width, Bucket.Height);
    }
}
