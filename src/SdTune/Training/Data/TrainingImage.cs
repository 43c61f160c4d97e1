namespace SdTune.Training.Data;

/// <summary>One registered image of a dataset, before per-epoch randomness.</summary>
/// <param name="Path">The image file.</param>
/// <param name="DatasetIndex">The <c>[[datasets]]</c> block (from 0).</param>
/// <param name="SubsetIndex">The subset within that block (from 0, as written in the configuration).</param>
/// <param name="Caption">The stored caption (caption file, or class tokens); wildcard subsets may hold several lines.</param>
/// <param name="Size">The image size after EXIF orientation.</param>
/// <param name="Repeats">How many times the image appears per epoch (for regularisation images, after balancing).</param>
/// <param name="IsReg">A regularisation image.</param>
/// <param name="Assignment">Its bucket and resize size.</param>
/// <param name="ConditioningPath">The paired condition image (<c>conditioning_data_dir</c>), or null.</param>
public sealed record TrainingImage(
    string Path,
    int DatasetIndex,
    int SubsetIndex,
    string Caption,
    PixelSize Size,
    int Repeats,
    bool IsReg,
    BucketAssignment Assignment,
    string? ConditioningPath = null);
