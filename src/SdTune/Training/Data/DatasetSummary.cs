using System.Globalization;
using System.Text;

namespace SdTune.Training.Data;

/// <summary>What a dataset holds, for the user to read before training: subsets, images, repeats and buckets.</summary>
public sealed record DatasetSummary
{
    /// <summary>Each used subset.</summary>
    public required IReadOnlyList<SubsetSummary> Subsets { get; init; }

    /// <summary>Training images counted with repeats.</summary>
    public required int TrainImagesWithRepeats { get; init; }

    /// <summary>Regularisation images counted with their balanced repeats (as used per epoch).</summary>
    public required int RegImagesWithRepeats { get; init; }

    /// <summary>Batches (steps) per epoch.</summary>
    public required int BatchesPerEpoch { get; init; }

    /// <summary>Each dataset's buckets (null where bucketing is off).</summary>
    public required IReadOnlyList<BucketInfo?> Buckets { get; init; }

    /// <summary>Each dataset's batch size.</summary>
    public required IReadOnlyList<int> BatchSizes { get; init; }

    /// <summary>Each dataset's resolution.</summary>
    public required IReadOnlyList<PixelSize> Resolutions { get; init; }

    /// <summary>Each dataset's options as configured (bucket limits, subset augmentations, ...).</summary>
    public IReadOnlyList<DatasetOptions> Options { get; init; } = [];

    /// <summary>Each dataset's caption tag counts per subset folder (sd-scripts' <c>tag_frequency</c>, <see cref="TagFrequency"/>).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>>> TagFrequencies { get; init; } = [];

    internal static DatasetSummary Create(TrainingDataset dataset, IReadOnlyList<List<SubsetSummary>> subsets) => new()
    {
        Subsets = subsets.SelectMany(s => s).ToList(),
        Options = dataset.Config.Datasets,
        TagFrequencies = subsets.Select((list, d) => TagFrequency.Count(dataset.Images.Where(i => i.DatasetIndex == d)
            .Select(i => (TagFrequency.FolderName(list.First(s => s.SubsetIndex == i.SubsetIndex).Source), i.Caption)))).ToList(),
        TrainImagesWithRepeats = dataset.Images.Where(i => !i.IsReg).Sum(i => i.Repeats),
        RegImagesWithRepeats = dataset.Images.Where(i => i.IsReg).Sum(i => i.Repeats),
        BatchesPerEpoch = dataset.BatchesPerEpoch,
        Buckets = dataset.BucketInfos,
        BatchSizes = dataset.Config.Datasets.Select(d => d.BatchSize).ToList(),
        Resolutions = dataset.Config.Datasets.Select(d => d.Resolution ?? default).ToList(),
    };

    /// <summary>The summary as plain text lines.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        for (var d = 0; d < Resolutions.Count; d++)
        {
            text.Append(inv, $"dataset {d}: resolution {Resolutions[d]}, batch size {BatchSizes[d]}").AppendLine();
            foreach (var s in Subsets.Where(s => s.DatasetIndex == d))
            {
                var kind = s.IsReg ? "reg" : "train";
                var tokens = s.ClassTokens is null ? "" : $", class tokens \"{s.ClassTokens}\"";
                text.Append(inv, $"  subset {s.SubsetIndex} ({kind}): {s.Source}: {s.ImageCount} images x {s.NumRepeats} repeats{tokens}").AppendLine();
            }

            if (Buckets[d] is { } info)
            {
                foreach (var b in info.Buckets)
                {
                    text.Append(inv, $"  bucket {b.Index}: {b.Resolution}, {b.Count} images with repeats").AppendLine();
                }

                text.Append(inv, $"  mean aspect-ratio error: {info.MeanImageAspectRatioError:F4}").AppendLine();
            }
        }

        text.Append(inv, $"{TrainImagesWithRepeats} training and {RegImagesWithRepeats} regularisation images per epoch (with repeats), {BatchesPerEpoch} batches per epoch").AppendLine();
        return text.ToString();
    }
}
