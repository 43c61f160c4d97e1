using TorchSharp;

namespace SdTune.Training.Data;

/// <summary>Everything the trainer needs for one sample of one step.</summary>
public sealed record TrainingSample
{
    /// <summary>The image file.</summary>
    public required string ImagePath { get; init; }

    /// <summary>The paired condition image (ControlNet, T2I-Adapter; <c>conditioning_data_dir</c>), or null.</summary>
    public string? ConditioningImagePath { get; init; }

    /// <summary>The <c>[[datasets]]</c> block (from 0).</summary>
    public required int DatasetIndex { get; init; }

    /// <summary>The subset within the block (from 0).</summary>
    public required int SubsetIndex { get; init; }

    /// <summary>The training size (bucket).</summary>
    public required PixelSize Bucket { get; init; }

    /// <summary>The size the image is resized to before <see cref="Crop"/> is taken.</summary>
    public required PixelSize ResizedSize { get; init; }

    /// <summary>The part of the resized image trained on (its size is <see cref="Bucket"/>).</summary>
    public required PixelRect Crop { get; init; }

    /// <summary>Mirror left-right (<c>flip_aug</c>).</summary>
    public required bool Flip { get; init; }

    /// <summary>The caption after processing (dropout, wildcards, shuffling...).</summary>
    public required string Caption { get; init; }

    /// <summary>The per-sample loss weight: <c>prior_loss_weight</c> for regularisation images, else 1.</summary>
    public required double LossWeight { get; init; }

    /// <summary>A regularisation (class) image.</summary>
    public required bool IsReg { get; init; }

    /// <summary>The dataset's <c>network_multiplier</c>.</summary>
    public double NetworkMultiplier { get; init; } = 1.0;

    /// <summary>Use the image's alpha as a loss mask (<c>alpha_mask</c>).</summary>
    public bool AlphaMask { get; init; }

    /// <summary>Apply the weak colour augmentation (<c>color_aug</c>); the data layer does not change pixels itself.</summary>
    public bool ColorAug { get; init; }

    /// <summary>The subset's <c>resize_interpolation</c>, or null for the default.</summary>
    public ResizeInterpolation? ResizeInterpolation { get; init; }

    /// <summary>SDXL size/crop conditioning.</summary>
    public required SdxlConditioning Conditioning { get; init; }

    /// <summary>Decodes the sample's pixels: resized, cropped and flipped, shape [3, H, W] in [-1, 1].</summary>
    /// <param name="reader">The image reader.</param>
    public torch.Tensor LoadImage(IImageReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return reader.Load(ImagePath, ResizedSize, Crop, Flip);
    }

    /// <summary>
    /// Decodes the paired condition image with the sample's own resize, crop and flip (so it lines up with the trained
    /// pixels), shape [3, H, W] in [0, 1] as ControlNet and T2I-Adapter take it.
    /// </summary>
    /// <param name="reader">The image reader.</param>
    /// <exception cref="InvalidOperationException">The sample has no condition image.</exception>
    public torch.Tensor LoadConditioningImage(IImageReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var path = ConditioningImagePath ?? throw new InvalidOperationException($"{ImagePath} has no condition image (set conditioning_data_dir on its subset).");
        using var pixels = reader.Load(path, ResizedSize, Crop, Flip);
        return (pixels + 1) / 2;
    }
}
