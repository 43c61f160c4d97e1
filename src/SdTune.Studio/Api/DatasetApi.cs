using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SdTune.IO;
using SdTune.Training;
using SdTune.Training.Data;

namespace SdTune.Studio.Api;

/// <summary>
/// The Data page's endpoints: a dataset folder's images as the trainer reads them (its folder convention, caption files,
/// image sizes and buckets, all through the training data code), the images themselves, and caption edits.
/// </summary>
internal static class DatasetApi
{
    /// <summary>The resolution a listing buckets at when none is given (Stable Diffusion 1.x's; a run without <c>resolution</c> uses its base model's).</summary>
    internal const string DefaultResolution = "512";

    /// <summary>The seed the listing builds the trainer's dataset with (only shuffling depends on it, which the listing does not show).</summary>
    private const long ListingSeed = 0;

    /// <summary>How many symbolic links a path may pass through before it is refused.</summary>
    private const int MaxLinks = 40;

    /// <summary>Maps the endpoints on <paramref name="api"/> (the <c>/api</c> group).</summary>
    internal static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/datasets/{name}/images", Images)
            .WithSummary("Every image of a dataset as training reads it (N_name subfolders, caption files, sizes, buckets), unreadable ones flagged, with a summary. Query: resolution, enable_bucket, min_bucket_reso, max_bucket_reso, bucket_reso_steps, bucket_no_upscale, caption_extension (the trainer's defaults).")
            .Produces<DatasetListing>()
            .Produces<ApiError>(StatusCodes.Status400BadRequest)
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/datasets/{name}/files/{*path}", ImageFile)
            .WithSummary("One image of a dataset (path relative to the dataset folder).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces<ApiError>(StatusCodes.Status400BadRequest)
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapPut("/datasets/{name}/captions/{*path}", PutCaption)
            .WithSummary("Writes an image's caption file (<image stem><caption_extension>, default .caption) atomically; answers the caption as training reads it back.")
            .Accepts<CaptionRequest>("application/json")
            .Produces<CaptionResponse>()
            .Produces<ApiError>(StatusCodes.Status400BadRequest)
            .Produces<ApiError>(StatusCodes.Status404NotFound);
    }

    private static IResult Images(string name, HttpRequest request, StudioHome home)
    {
        try
        {
            if (Dataset(home, name) is not { } folder)
            {
                return NoDataset(name);
            }

            var extension = CaptionExtension(request.Query["caption_extension"].ToString() is { Length: > 0 } e ? e : null);
            return Results.Json(List(folder, BucketOptions(request.Query), extension), StudioJson.Options);
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }
    }

    private static IResult ImageFile(string name, string path, StudioHome home)
    {
        try
        {
            return Dataset(home, name) is not { } folder ? NoDataset(name)
                : Image(home, folder, path) is { } file ? Results.File(file, ContentType(file))
                : NoImage(path);
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }
    }

    private static async Task<IResult> PutCaption(string name, string path, HttpRequest request, StudioHome home)
    {
        try
        {
            if (Dataset(home, name) is not { } folder)
            {
                return NoDataset(name);
            }

            if (Image(home, folder, path) is not { } image)
            {
                return NoImage(path);
            }

            JsonObject body;
            try
            {
                body = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted) as JsonObject
                    ?? throw new StudioRequestException("body", "expected a JSON object {\"caption\": \"...\"}.");
            }
            catch (JsonException e)
            {
                throw new StudioRequestException("body", $"not valid JSON: {e.Message}");
            }

            var caption = Text(body, "caption") ?? throw new StudioRequestException("caption", "is required.");
            if (caption.Trim().Length == 0)
            {
                throw new StudioRequestException("caption", "is empty; training refuses an empty caption file (delete the file to use the folder's class tokens).");
            }

            if (CaptionsFromMetadata(folder))
            {
                throw new StudioRequestException("path", "this dataset's captions come from its metadata.jsonl (its \"text\" values); training does not read caption files here.");
            }

            var extension = CaptionExtension(Text(body, "caption_extension"));
            var captionFile = CaptionFiles.Candidates(image, extension)[0];
            Real(home, captionFile, "path");
            AtomicFile.WriteAllText(captionFile, caption);
            return Results.Json(new CaptionResponse(Relative(folder, image), Relative(folder, captionFile), CaptionFiles.Read(image, extension, enableWildcard: false)), StudioJson.Options);
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }
        catch (DatasetException e)
        {
            return BadRequest(new StudioRequestException("caption", e.Message));
        }
    }

    /// <summary>
    /// The listing: the subsets the trainer's folder convention finds, each image's caption (the trainer's caption reader),
    /// size (the trainer's image reader) and bucket (the trainer's bucket assigner), and whether the trainer's own dataset
    /// build accepts the folder.
    /// </summary>
    private static DatasetListing List(string folder, DatasetOptions options, string extension)
    {
        var warnings = new List<string>();
        var reader = new ImageFileReader();
        var images = new List<DatasetImage>();
        string? trainingError = null;
        DatasetConfig config;
        try
        {
            config = DatasetConfig.FromFolders(folder, null, options, new SubsetOptions { CaptionExtension = extension }, warnings);
        }
        catch (DatasetConfigException e)
        {
            return Listing(folder, images, warnings, e.Message);
        }

        TrainingDataset? built = null;
        try
        {
            built = TrainingDataset.Build(config, reader, ListingSeed);
            warnings.AddRange(built.Warnings);
        }
        catch (Exception e) when (e is DatasetException or DatasetConfigException or ArgumentException)
        {
            trainingError = e.Message;
        }

        var dataset = config.Datasets[0];
        var assigner = BucketAssigner.For(dataset);
        for (var s = 0; s < dataset.Subsets.Count; s++)
        {
            var subset = dataset.Subsets[s];
            var subsetName = Path.GetFileName(subset.MetadataFile ?? subset.ImageDirectory!);
            if (subset.MetadataFile is not null)
            {
                // A metadata.jsonl dataset: captions come from that file, not caption files; list what the trainer registered.
                foreach (var image in (built?.Images ?? []).Where(i => i.SubsetIndex == s))
                {
                    images.Add(Row(folder, images.Count, subsetName, image.Path, image.Repeats, (image.Caption, image.Caption, null, null), image.Size, null, assigner));
                }

                continue;
            }

            foreach (var path in ImageFiles.List(subset.ImageDirectory!))
            {
                var captionFile = CaptionFiles.Candidates(path, extension).FirstOrDefault(File.Exists) ?? CaptionFiles.Candidates(path, extension)[0];
                string? caption = null;
                string? captionError = null;
                try
                {
                    caption = CaptionFiles.Read(path, extension, subset.EnableWildcard);
                }
                catch (DatasetException e)
                {
                    captionError = e.Message;
                }

                PixelSize? size = null;
                string? error = null;
                try
                {
                    size = reader.Probe(path);
                }
                catch (DatasetException e)
                {
                    error = e.Message;
                }

                var trainingCaption = caption ?? (captionError is null ? subset.ClassTokens : null);
                images.Add(Row(folder, images.Count, subsetName, path, subset.NumRepeats, (caption, trainingCaption, captionFile, captionError), size, error, assigner));
            }
        }

        return Listing(folder, images, warnings, trainingError);
    }

    private static DatasetImage Row(
        string folder,
        int index,
        string subset,
        string path,
        int repeats,
        (string? Text, string? Used, string? File, string? Error) caption,
        PixelSize? size,
        string? error,
        BucketAssigner assigner)
    {
        PixelSize? bucket = null;
        if (size is { } known)
        {
            try
            {
                bucket = assigner.Assign(known).Bucket;
            }
            catch (ArgumentOutOfRangeException e)
            {
                error = e.Message;
            }
        }

        var relative = Relative(folder, path);
        return new DatasetImage(
            index, relative, subset, repeats, caption.Text, caption.Used, caption.File is null ? null : Relative(folder, caption.File), caption.Error is null ? null : Shorten(folder, caption.Error),
            size?.Width, size?.Height, bucket?.ToString(), size is not null, error is null ? null : Shorten(folder, error), FileUrl(folder, relative));
    }

    private static DatasetListing Listing(string folder, List<DatasetImage> images, List<string> warnings, string? trainingError)
    {
        var bucketed = images.Where(i => i.Bucket is not null).ToList();
        var buckets = bucketed.GroupBy(i => i.Bucket!)
            .OrderBy(g => int.Parse(g.Key.Split('x')[0], CultureInfo.InvariantCulture)).ThenBy(g => int.Parse(g.Key.Split('x')[1], CultureInfo.InvariantCulture))
            .Select(g => new DatasetBucket(g.Key, g.Count(), g.Sum(i => i.Repeats))).ToList();
        var summary = new DatasetListingSummary(
            images.Count,
            bucketed.Sum(i => i.Repeats),
            buckets,
            images.Count(i => i.Caption is null),
            images.Count(i => !i.Readable),
            trainingError is null ? null : Shorten(folder, trainingError),
            [.. warnings.Select(w => Shorten(folder, w))]);
        return new DatasetListing(images, summary);
    }

    /// <summary>True when training reads the folder as one imagefolder subset, its captions from a <c>metadata.jsonl</c>.</summary>
    private static bool CaptionsFromMetadata(string folder)
    {
        try
        {
            // The resolution plays no part in which subsets the folder convention finds.
            var options = new DatasetOptions { Resolution = new PixelSize(64, 64) };
            return DatasetConfig.FromFolders(folder, null, options, new SubsetOptions(), []).Datasets[0].Subsets.Any(s => s.IsFineTune);
        }
        catch (DatasetConfigException)
        {
            return false;
        }
    }

    /// <summary>The dataset folder <paramref name="name"/> under <see cref="StudioHome.Datasets"/>.</summary>
    /// <returns>The folder, or null when there is no such folder.</returns>
    /// <exception cref="StudioRequestException">The name leads outside the datasets folder.</exception>
    private static string? Dataset(StudioHome home, string name)
    {
        name = Unslash(name);
        if (Path.IsPathRooted(name))
        {
            throw new StudioRequestException("name", $"\"{name}\" is an absolute path; name a folder under datasets/.");
        }

        var folder = home.Confine(home.Datasets, name, "name");
        if (folder == home.Datasets || !Directory.Exists(folder))
        {
            return null;
        }

        Real(home, folder, "name");
        return folder;
    }

    /// <summary>An image of the dataset by its path relative to the dataset folder; null when there is no such file.</summary>
    private static string? Image(StudioHome home, string folder, string path)
    {
        path = Unslash(path);
        if (Path.IsPathRooted(path))
        {
            throw new StudioRequestException("path", $"\"{path}\" is an absolute path; give it relative to the dataset folder.");
        }

        var file = home.Confine(folder, path, "path");
        if (!ImageFiles.IsImage(file))
        {
            throw new StudioRequestException("path", $"\"{path}\" is not an image ({string.Join(", ", ImageFiles.Extensions)}).");
        }

        Real(home, file, "path");
        return File.Exists(file) ? file : null;
    }

    /// <summary>
    /// Follows every symbolic link on <paramref name="path"/> below the datasets folder and refuses the path, naming
    /// <paramref name="field"/>, when one leads outside it.
    /// </summary>
    private static void Real(StudioHome home, string path, string field)
    {
        var root = home.Datasets;
        var links = 0;
        var current = root;
        var rest = new Queue<string>(Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar));
        while (rest.TryDequeue(out var part))
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is null)
            {
                continue;
            }

            var target = new FileInfo(current).ResolveLinkTarget(returnFinalTarget: false)!.FullName;
            if (++links > MaxLinks || !(target + Path.DirectorySeparatorChar).StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new StudioRequestException(field, $"\"{Path.GetRelativePath(root, current)}\" is a link that leads outside the datasets folder.");
            }

            // Walk the target again from the root, so links inside it are checked too.
            rest = new Queue<string>(Path.GetRelativePath(root, target).Split(Path.DirectorySeparatorChar).Concat(rest));
            current = root;
        }
    }

    private static DatasetOptions BucketOptions(IQueryCollection query)
    {
        var text = query["resolution"].ToString() is { Length: > 0 } r ? r : DefaultResolution;
        PixelSize resolution;
        try
        {
            resolution = new TrainingConfig { Resolution = text }.ResolutionSize!.Value;
        }
        catch (TrainingConfigException e)
        {
            throw new StudioRequestException("resolution", e.Message);
        }

        var defaults = new DatasetOptions();
        var options = defaults with
        {
            Resolution = resolution,
            EnableBucket = Bool(query, "enable_bucket", defaults.EnableBucket),
            MinBucketReso = Int(query, "min_bucket_reso", defaults.MinBucketReso),
            MaxBucketReso = Int(query, "max_bucket_reso", defaults.MaxBucketReso),
            BucketResoSteps = Int(query, "bucket_reso_steps", defaults.BucketResoSteps),
            BucketNoUpscale = Bool(query, "bucket_no_upscale", defaults.BucketNoUpscale),
        };
        if (options.BucketResoSteps < 1)
        {
            throw new StudioRequestException("bucket_reso_steps", "must be at least 1.");
        }

        if (options.MinBucketReso < 1)
        {
            throw new StudioRequestException("min_bucket_reso", "must be at least 1.");
        }

        return options.MaxBucketReso < options.MinBucketReso
            ? throw new StudioRequestException("max_bucket_reso", $"{options.MaxBucketReso} is less than min_bucket_reso ({options.MinBucketReso}).")
            : options;
    }

    private static int Int(IQueryCollection query, string key, int fallback)
    {
        var text = query[key].ToString();
        return text.Length == 0 ? fallback
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
            : throw new StudioRequestException(key, $"\"{text}\" is not an integer.");
    }

    private static bool Bool(IQueryCollection query, string key, bool fallback) => query[key].ToString() switch
    {
        "" => fallback,
        "true" or "1" => true,
        "false" or "0" => false,
        var text => throw new StudioRequestException(key, $"\"{text}\" is not true or false."),
    };

    private static string CaptionExtension(string? text)
    {
        var extension = text ?? new SubsetOptions().CaptionExtension;
        return extension.Length < 2 || extension[0] != '.' || extension.IndexOfAny(['/', '\\', '\0']) >= 0
            ? throw new StudioRequestException("caption_extension", $"\"{extension}\" is not a file extension (for example \".txt\").")
            : extension;
    }

    private static string? Text(JsonObject body, string key) => body[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new StudioRequestException(key, "expected a string."),
    };

    /// <summary>A route value with its encoded slashes (which the server leaves encoded) read as the separators they stand for.</summary>
    private static string Unslash(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    private static string Relative(string folder, string path) => Path.GetRelativePath(folder, path).Replace('\\', '/');

    /// <summary>A message with the dataset folder's absolute path taken out (paths read relative to the dataset).</summary>
    private static string Shorten(string folder, string message) => message.Replace(folder + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);

    private static string FileUrl(string folder, string relative) =>
        $"/api/datasets/{Uri.EscapeDataString(Path.GetFileName(folder))}/files/{string.Join('/', relative.Split('/').Select(Uri.EscapeDataString))}";

    private static string ContentType(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        _ => "image/bmp",
    };

    private static IResult BadRequest(StudioRequestException e) =>
        Results.Json(new ApiError(e.Message, e.Field), StudioJson.Options, statusCode: StatusCodes.Status400BadRequest);

    private static IResult NoDataset(string name) =>
        Results.Json(new ApiError($"no dataset \"{name}\" in the datasets folder.", "name"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);

    private static IResult NoImage(string path) =>
        Results.Json(new ApiError($"no image \"{path}\" in the dataset.", "path"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
}

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
