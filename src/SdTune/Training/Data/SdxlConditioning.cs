namespace SdTune.Training.Data;

/// <summary>
/// SDXL's size and crop conditioning for one sample, computed as sd-scripts does: the original size is the image
/// size before resizing, the crop's top-left follows Stability's preprocessing (<c>get_crop_ltrb</c>: the offset at
/// which the image, fitted inside the bucket, would be centred), mirrored for flipped samples; the target size is the bucket.
/// </summary>
/// <param name="OriginalSize">The image size before resizing.</param>
/// <param name="CropTop">The crop's top coordinate.</param>
/// <param name="CropLeft">The crop's left coordinate.</param>
/// <param name="TargetSize">The training size (the bucket).</param>
public readonly record struct SdxlConditioning(PixelSize OriginalSize, int CropTop, int CropLeft, PixelSize TargetSize)
{
    /// <summary>Computes the conditioning of an image placed in a bucket.</summary>
    /// <param name="original">The image size before resizing.</param>
    /// <param name="bucket">The bucket.</param>
    /// <param name="flipped">Whether the sample is mirrored.</param>
    public static SdxlConditioning Compute(PixelSize original, PixelSize bucket, bool flipped)
    {
        var bucketAspect = (double)bucket.Width / bucket.Height;
        var imageAspect = (double)original.Width / original.Height;
        double fittedWidth, fittedHeight;
        if (bucketAspect > imageAspect)
        {
            fittedWidth = bucket.Height * imageAspect;
            fittedHeight = bucket.Height;
        }
        else
        {
            fittedWidth = bucket.Width;
            fittedHeight = bucket.Width / imageAspect;
        }

        var left = Math.Floor((bucket.Width - fittedWidth) / 2);
        var top = Math.Floor((bucket.Height - fittedHeight) / 2);
        if (flipped)
        {
            left = bucket.Width - (left + fittedWidth);
        }

        return new SdxlConditioning(original, (int)top, (int)left, bucket);
    }
}
