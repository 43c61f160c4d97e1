namespace SdTune.Studio.Datasets;

/// <summary>The answer of <c>GET /api/datasets/{name}/images</c>.</summary>
/// <param name="Images">Every image, subsets in order, paths sorted, as training reads them.</param>
/// <param name="Summary">Counts, buckets and what training says of the folder.</param>
public sealed record DatasetListing(IReadOnlyList<DatasetImage> Images, DatasetListingSummary Summary);

/// <summary>One image of a dataset.</summary>
/// <param name="Index">Its position in the listing (from 0).</param>
/// <param name="Path">Its path relative to the dataset folder.</param>
/// <param name="Subset">Its subset folder (<c>N_class tokens</c>).</param>
/// <param name="Repeats">How many times it is used per epoch (the subset folder's N).</param>
/// <param name="Caption">Its caption file's caption as training reads it (the first line); null when it has none.</param>
/// <param name="TrainingCaption">The caption training uses: the caption file's, else the subset's class tokens; null when it has neither (training refuses the folder).</param>
/// <param name="CaptionFile">The caption file read (or written on edit), relative to the dataset folder; null for captions from <c>metadata.jsonl</c>.</param>
/// <param name="CaptionError">Why the caption file cannot be used (empty, not UTF-8); null when it can.</param>
/// <param name="Width">Its width after EXIF orientation; null when unreadable.</param>
/// <param name="Height">Its height after EXIF orientation; null when unreadable.</param>
/// <param name="Bucket">The bucket (<c>WxH</c>) it trains in; null when unreadable.</param>
/// <param name="Readable">False when the image cannot be read (training skips it).</param>
/// <param name="Error">Why it cannot be read or bucketed; null when it can.</param>
/// <param name="Url">Where the image is served.</param>
public sealed record DatasetImage(
    int Index,
    string Path,
    string Subset,
    int Repeats,
    string? Caption,
    string? TrainingCaption,
    string? CaptionFile,
    string? CaptionError,
    int? Width,
    int? Height,
    string? Bucket,
    bool Readable,
    string? Error,
    string Url);

/// <summary>The summary of a dataset listing.</summary>
/// <param name="Images">The number of images.</param>
/// <param name="ImagesWithRepeats">Readable images × their repeats: the samples of one epoch.</param>
/// <param name="Buckets">The buckets, with their images.</param>
/// <param name="MissingCaptions">Images without a usable caption file (none, empty, or not UTF-8).</param>
/// <param name="Unreadable">Images that cannot be read.</param>
/// <param name="TrainingError">Why training would refuse the folder (for example an image with no caption and no class tokens); null when it accepts it.</param>
/// <param name="Warnings">What training warns about (ignored folders, skipped images, captions taken from class tokens).</param>
public sealed record DatasetListingSummary(int Images, int ImagesWithRepeats, IReadOnlyList<DatasetBucket> Buckets, int MissingCaptions, int Unreadable, string? TrainingError, IReadOnlyList<string> Warnings);

/// <summary>One bucket of a dataset listing.</summary>
/// <param name="Bucket">Its size, <c>WxH</c>.</param>
/// <param name="Images">The images in it.</param>
/// <param name="ImagesWithRepeats">Those images × their repeats.</param>
public sealed record DatasetBucket(string Bucket, int Images, int ImagesWithRepeats);

/// <summary>The body of <c>PUT /api/datasets/{name}/captions/{path}</c>.</summary>
/// <param name="Caption">The new caption.</param>
/// <param name="CaptionExtension">The caption extension (default <c>.caption</c>, as training's <c>caption_extension</c>).</param>
public sealed record CaptionRequest(string Caption, string? CaptionExtension);

/// <summary>The answer of a caption edit.</summary>
/// <param name="Path">The image, relative to the dataset folder.</param>
/// <param name="CaptionFile">The caption file written, relative to the dataset folder.</param>
/// <param name="Caption">The caption as training reads it back.</param>
public sealed record CaptionResponse(string Path, string CaptionFile, string? Caption);
