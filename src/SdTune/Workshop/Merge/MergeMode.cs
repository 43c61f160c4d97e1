namespace SdTune.Workshop.Merge;

/// <summary>How a checkpoint merge combines its inputs, as A1111's checkpoint merger and SuperMerger define them.</summary>
public enum MergeMode
{
    /// <summary><c>A·(1 − α) + B·α</c>: two models.</summary>
    WeightedSum,

    /// <summary><c>A + (B − C)·α</c>: three models; what B learned on top of C, added to A.</summary>
    AddDifference,
}

/// <summary>Where a component of the merged checkpoint (text encoders, VAE) comes from.</summary>
public enum MergeComponentSource
{
    /// <summary>Merged like the UNet, with the base α.</summary>
    Merge,

    /// <summary>Copied unchanged from model A.</summary>
    A,
}
