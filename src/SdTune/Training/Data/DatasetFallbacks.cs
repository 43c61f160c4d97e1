namespace SdTune.Training.Data;

/// <summary>
/// What a training configuration gives the datasets of a dataset TOML that do not set a value themselves, as
/// sd-scripts' command-line arguments do: a dataset's (or <c>[general]</c>'s) own value wins, then these, then the
/// defaults.
/// </summary>
/// <param name="Resolution">The training resolution (<c>resolution</c>).</param>
/// <param name="BatchSize">Images per batch (<c>train_batch_size</c>).</param>
/// <param name="CaptionExtension">The caption file extension (<c>caption_extension</c>).</param>
public sealed record DatasetFallbacks(PixelSize? Resolution, int? BatchSize, string? CaptionExtension)
{
    /// <summary>How values taken from here are named in messages.</summary>
    internal const string Level = "the training configuration";
}
