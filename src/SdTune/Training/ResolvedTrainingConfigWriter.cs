using System.Globalization;
using System.Text;
using SdTune.Training.Data;

namespace SdTune.Training;

/// <summary>
/// Writes a <see cref="ResolvedTrainingConfig"/>: the keys that apply to the run with the values it uses, then (as
/// comments) the keys set but not used and why, and the datasets' own values.
/// </summary>
internal static class ResolvedTrainingConfigWriter
{
    private static readonly TrainingConfig Defaults = new();

    public static string Write(ResolvedTrainingConfig resolved, bool comments)
    {
        var config = resolved.Config;
        var datasetToml = config.DatasetConfig is null ? null : resolved.Dataset;
        var text = new StringBuilder();
        var unused = new List<string>();
        foreach (var key in TrainingConfigKeys.All)
        {
            if (key.Get(config) is not { } value)
            {
                continue;
            }

            if ((key.NotUsed(config) ?? NotUsedByDatasets(key, datasetToml)) is { } reason)
            {
                if (TrainingConfigWriter.Format(key, value) != (key.Get(Defaults) is { } fallback ? TrainingConfigWriter.Format(key, fallback) : null))
                {
                    unused.Add($"# {TrainingConfigWriter.Line(key, value)}  ({reason})");
                }

                continue;
            }

            if (datasetToml is not null && DatasetLevelValue(key, value, datasetToml) is { } used)
            {
                value = used;
            }
            else if (datasetToml is not null && IsDatasetLevel(key))
            {
                continue;
            }

            text.Append(TrainingConfigWriter.Line(key, value)).Append('\n');
        }

        if (comments && unused.Count > 0)
        {
            text.Append("\n# Set, but not used by this run:\n");
            unused.ForEach(line => text.Append(line).Append('\n'));
        }

        if (comments && resolved.Dataset is { } dataset)
        {
            text.Append('\n').Append(DescribeDatasets(dataset, fromToml: datasetToml is not null));
        }

        return text.ToString();
    }

    private static bool IsDatasetLevel(TrainingConfigKey key) => key.Name is "resolution" or "train_batch_size" or "caption_extension";

    /// <summary>
    /// For the keys a dataset TOML may set itself: the configuration's value when some dataset takes it, else the value
    /// every dataset agrees on; null (left out, the datasets' values follow as comments) when they differ.
    /// </summary>
    private static object? DatasetLevelValue(TrainingConfigKey key, object value, DatasetConfig dataset)
    {
        if (!IsDatasetLevel(key))
        {
            return value;
        }

        var (name, values) = key.Name switch
        {
            "resolution" => ("resolution", dataset.Datasets.Select(d => (object)ResolutionText(d.Resolution!.Value))),
            "train_batch_size" => ("batch_size", dataset.Datasets.Select(d => (object)d.BatchSize)),
            _ => ("caption_extension", dataset.Datasets.SelectMany(d => d.Subsets).Select(s => (object)s.CaptionExtension)),
        };
        if (dataset.FallbacksUsed.Contains(name))
        {
            return value;
        }

        var distinct = values.Distinct().ToList();
        return distinct.Count == 1 ? distinct[0] : null;
    }

    private static string? NotUsedByDatasets(TrainingConfigKey key, DatasetConfig? dataset) =>
        key.Name == "prior_loss_weight" && dataset is not null && !dataset.Datasets.SelectMany(d => d.Subsets).Any(s => s.IsReg)
            ? "the datasets have no is_reg subset"
            : null;

    private static string ResolutionText(PixelSize size) =>
        size.Width == size.Height ? size.Width.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{size.Width},{size.Height}");

    private static string DescribeDatasets(DatasetConfig dataset, bool fromToml)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder(fromToml
            ? "# The datasets as they run (dataset_config's own values, else the ones above):\n"
            : "# The datasets as they run (the folders of train_data_dir and reg_data_dir):\n");
        for (var d = 0; d < dataset.Datasets.Count; d++)
        {
            var options = dataset.Datasets[d];
            text.Append(inv, $"# [[datasets]] {d + 1}: resolution {options.Resolution}, batch_size {options.BatchSize}, enable_bucket {(options.EnableBucket ? "true" : "false")}\n");
            for (var s = 0; s < options.Subsets.Count; s++)
            {
                var subset = options.Subsets[s];
                var source = subset.MetadataFile is { } metadata ? $"metadata_file {TrainingConfigWriter.Quote(metadata)}" : $"image_dir {TrainingConfigWriter.Quote(subset.ImageDirectory ?? "")}";
                text.Append(inv, $"#   subset {d + 1}.{s + 1}: {source}, num_repeats {subset.NumRepeats}, caption_extension {TrainingConfigWriter.Quote(subset.CaptionExtension)}");
                if (subset.ClassTokens is { } tokens)
                {
                    text.Append(", class_tokens ").Append(TrainingConfigWriter.Quote(tokens));
                }

                text.Append(subset.IsReg ? ", is_reg true\n" : "\n");
            }
        }

        return text.ToString();
    }
}
