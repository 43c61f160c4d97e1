namespace SdTune.Training.Data;

/// <summary>
/// Assigns images to buckets exactly as sd-scripts' <c>BucketManager.select_bucket</c> does.
/// With predefined buckets: an image whose size is a bucket uses it, otherwise the bucket with the closest aspect
/// ratio (the first on ties); the image is scaled to cover the bucket (sides rounded half up).
/// With <c>bucket_no_upscale</c>: images larger than the target area are shrunk to that area at their aspect ratio,
/// rounding to the step on whichever side gives the smaller aspect error; the bucket is the resized size rounded
/// down to the step, so images are cropped, never padded or enlarged.
/// </summary>
public sealed class BucketAssigner
{
    private readonly bool _noUpscale;
    private readonly long _maxArea;
    private readonly int _steps;
    private readonly HashSet<PixelSize> _predefinedSet;
    private readonly double[] _predefinedRatios;

    private BucketAssigner(bool noUpscale, long maxArea, int steps, IReadOnlyList<PixelSize> predefined)
    {
        _noUpscale = noUpscale;
        _maxArea = maxArea;
        _steps = steps;
        Predefined = predefined;
        _predefinedSet = [.. predefined];
        _predefinedRatios = predefined.Select(b => b.AspectRatio).ToArray();
    }

    /// <summary>The predefined buckets (empty in no-upscale mode, where buckets follow the images).</summary>
    public IReadOnlyList<PixelSize> Predefined { get; }

    /// <summary>The assigner a dataset's options describe: bucketing, no-upscale, or one fixed size when bucketing is off.</summary>
    /// <param name="options">The dataset options (resolution required).</param>
    public static BucketAssigner For(DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var resolution = options.Resolution ?? throw new ArgumentException("The dataset has no resolution.", nameof(options));
        if (!options.EnableBucket)
        {
            return new BucketAssigner(false, resolution.Area, 1, [resolution]);
        }

        return options.BucketNoUpscale
            ? new BucketAssigner(true, resolution.Area, options.BucketResoSteps, [])
            : new BucketAssigner(false, resolution.Area, options.BucketResoSteps, BucketResolutions.Make(resolution, options.MinBucketReso, options.MaxBucketReso, options.BucketResoSteps));
    }

    /// <summary>Chooses the bucket and resize size of an image.</summary>
    /// <param name="image">The image size (after EXIF orientation).</param>
    public BucketAssignment Assign(PixelSize image)
    {
        if (image.Width < 1 || image.Height < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(image), $"Image size {image} is empty.");
        }

        var aspect = (double)image.Width / image.Height;
        PixelSize bucket;
        PixelSize resized;
        if (!_noUpscale)
        {
            bucket = image;
            if (!_predefinedSet.Contains(image))
            {
                var best = 0;
                for (var i = 1; i < _predefinedRatios.Length; i++)
                {
                    if (Math.Abs(_predefinedRatios[i] - aspect) < Math.Abs(_predefinedRatios[best] - aspect))
                    {
                        best = i;
                    }
                }

                bucket = Predefined[best];
            }

            var bucketAspect = (double)bucket.Width / bucket.Height;
            var scale = aspect > bucketAspect ? (double)bucket.Height / image.Height : (double)bucket.Width / image.Width;
            resized = new PixelSize((int)((image.Width * scale) + 0.5), (int)((image.Height * scale) + 0.5));
        }
        else
        {
            if (image.Area > _maxArea)
            {
                var width = Math.Sqrt(_maxArea * aspect);
                var height = _maxArea / width;
                var widthRounded = RoundToSteps(width);
                var heightForWidth = RoundToSteps(widthRounded / aspect);
                var ratioWidthRounded = (double)widthRounded / heightForWidth;
                var heightRounded = RoundToSteps(height);
                var widthForHeight = RoundToSteps(heightRounded * aspect);
                var ratioHeightRounded = (double)widthForHeight / heightRounded;
                resized = Math.Abs(ratioWidthRounded - aspect) < Math.Abs(ratioHeightRounded - aspect)
                    ? new PixelSize(widthRounded, (int)((widthRounded / aspect) + 0.5))
                    : new PixelSize((int)((heightRounded * aspect) + 0.5), heightRounded);
            }
            else
            {
                resized = image;
            }

            bucket = new PixelSize(resized.Width - (resized.Width % _steps), resized.Height - (resized.Height % _steps));
            if (bucket.Width < 1 || bucket.Height < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(image), $"Image size {image} is smaller than bucket_reso_steps ({_steps}); it cannot be bucketed without upscaling.");
            }
        }

        return new BucketAssignment(bucket, resized, ((double)bucket.Width / bucket.Height) - aspect);
    }

    private int RoundToSteps(double x)
    {
        var r = (int)(x + 0.5);
        return r - (r % _steps);
    }
}
