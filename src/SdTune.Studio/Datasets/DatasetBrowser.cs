using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SdTune.IO;
using SdTune.Training.Data;
using SdTune.Training;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;

namespace SdTune.Studio.Datasets;

/// <summary>
/// A dataset folder as training reads it, through the training data code: its subsets (the folder convention), each
/// image's caption, size and bucket, and whether the trainer's own dataset build accepts it.
/// </summary>
internal static class DatasetBrowser
{
    /// <summary>The seed the listing builds the trainer's dataset with (only shuffling depends on it, which the listing does not show).</summary>
    private const long ListingSeed = 0;

    /// <summary>
    /// The listing: the subsets the trainer's folder convention finds, each image's caption (the trainer's caption reader),
    /// size (the trainer's image reader) and bucket (the trainer's bucket assigner), and whether the trainer's own dataset
    /// build accepts the folder.
    /// </summary>
    internal static DatasetListing List(string folder, DatasetOptions options, string extension)
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

    internal static DatasetImage Row(
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

    internal static DatasetListing Listing(string folder, List<DatasetImage> images, List<string> warnings, string? trainingError)
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
    internal static bool CaptionsFromMetadata(string folder)
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

    internal static string Relative(string folder, string path) => Path.GetRelativePath(folder, path).Replace('\\', '/');

    /// <summary>A message with the dataset folder's absolute path taken out (paths read relative to the dataset).</summary>
    internal static string Shorten(string folder, string message) => message.Replace(folder + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);

    internal static string FileUrl(string folder, string relative) =>
        $"/api/datasets/{Uri.EscapeDataString(Path.GetFileName(folder))}/files/{string.Join('/', relative.Split('/').Select(Uri.EscapeDataString))}";
}
