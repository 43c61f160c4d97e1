namespace SdTune.Training.Data;

/// <summary>
/// One <c>[[datasets]]</c> block of a kohya-style dataset configuration: image size and bucketing settings,
/// shared by its subsets. Defaults are those of sd-scripts.
/// </summary>
public sealed record DatasetOptions
{
    /// <summary><c>batch_size</c> (1).</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary><c>resolution</c>: an int (square) or <c>[width, height]</c>. Required to build a dataset.</summary>
    public PixelSize? Resolution { get; init; }

    /// <summary><c>enable_bucket</c> (false): aspect-ratio bucketing.</summary>
    public bool EnableBucket { get; init; }

    /// <summary><c>min_bucket_reso</c> (256).</summary>
    public int MinBucketReso { get; init; } = 256;

    /// <summary><c>max_bucket_reso</c> (1024).</summary>
    public int MaxBucketReso { get; init; } = 1024;

    /// <summary><c>bucket_reso_steps</c> (64): bucket sides are multiples of this.</summary>
    public int BucketResoSteps { get; init; } = 64;

    /// <summary><c>bucket_no_upscale</c> (false): buckets follow each image's size and images are never enlarged.</summary>
    public bool BucketNoUpscale { get; init; }

    /// <summary><c>network_multiplier</c> (1.0).</summary>
    public double NetworkMultiplier { get; init; } = 1.0;

    /// <summary><c>validation_seed</c>: the seed of the validation split.</summary>
    public int? ValidationSeed { get; init; }

    /// <summary><c>validation_split</c> (0.0): the fraction of images held out for validation.</summary>
    public double ValidationSplit { get; init; }

    /// <summary>The subsets (<c>[[datasets.subsets]]</c>), each with its values resolved.</summary>
    public IReadOnlyList<SubsetOptions> Subsets { get; init; } = [];
}
