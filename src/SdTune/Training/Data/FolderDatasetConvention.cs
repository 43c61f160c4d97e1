using System.Globalization;

namespace SdTune.Training.Data;

/// <summary>
/// sd-scripts' folder convention: every subfolder <c>N_concept words</c> of the training folder is a subset
/// repeated N times with class tokens "concept words"; subfolders of the regularisation folder are reg subsets.
/// With condition images (ControlNet, T2I-Adapter), each subset folder holds them in its own <c>conditioning</c>
/// subfolder, one per image with the same file stem (<c>10_dog/a.png</c> pairs with <c>10_dog/conditioning/a.png</c>).
/// A training folder holding a <c>metadata.jsonl</c> is instead one diffusers imagefolder subset (see
/// <see cref="ImageFolderMetadata"/>).
/// </summary>
internal static class FolderDatasetConvention
{
    public static DatasetConfig Build(
        string trainDataDirectory,
        string? regDataDirectory,
        DatasetOptions dataset,
        SubsetOptions subsetDefaults,
        ICollection<string> warnings,
        bool withConditioning = false)
    {
        ArgumentNullException.ThrowIfNull(trainDataDirectory);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(subsetDefaults);
        ArgumentNullException.ThrowIfNull(warnings);

        var subsets = new List<SubsetOptions>();
        var metadata = Path.Combine(trainDataDirectory, ImageFolderMetadata.FileName);
        if (File.Exists(metadata))
        {
            subsets.Add(subsetDefaults with { ImageDirectory = trainDataDirectory, MetadataFile = metadata, NumRepeats = 1 });
        }
        else
        {
            subsets.AddRange(SubsetsOf(trainDataDirectory, isReg: false, subsetDefaults, warnings, "train_data_dir", withConditioning));
        }

        if (regDataDirectory is not null)
        {
            subsets.AddRange(SubsetsOf(regDataDirectory, isReg: true, subsetDefaults, warnings, "reg_data_dir", withConditioning));
        }

        if (!subsets.Any(s => !s.IsReg))
        {
            throw new DatasetConfigException(
                $"{trainDataDirectory}: train_data_dir has no usable subfolder; name them 'N_concept words' (N = repeats, for example '10_sks dog').");
        }

        if (dataset.Resolution is null)
        {
            throw new DatasetConfigException($"{trainDataDirectory}: a resolution is required to train from folders.");
        }

        return new DatasetConfig
        {
            Source = trainDataDirectory,
            Datasets = [dataset with { Subsets = subsets }],
        };
    }

    /// <summary>The name of the folder of condition images inside each subset folder.</summary>
    public const string ConditioningFolder = "conditioning";

    private static List<SubsetOptions> SubsetsOf(string directory, bool isReg, SubsetOptions defaults, ICollection<string> warnings, string option, bool withConditioning)
    {
        if (!Directory.Exists(directory))
        {
            throw new DatasetConfigException($"{directory}: {option} is not a folder.");
        }

        var result = new List<SubsetOptions>();
        foreach (var sub in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(sub);
            var tokens = name.Split('_');
            if (!int.TryParse(tokens[0], NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var repeats))
            {
                warnings.Add($"{sub}: ignored: the folder name does not start with the number of repeats ('N_concept words').");
                continue;
            }

            if (repeats >= 1 && DatasetConfigParser.Repeats.Problem(repeats) is { } problem)
            {
                throw new DatasetConfigException($"{sub}: the number of repeats in the folder name: {problem}");
            }

            if (repeats < 1)
            {
                warnings.Add($"{sub}: ignored: the number of repeats is {repeats} (less than 1).");
                continue;
            }

            var conditioning = Path.Combine(sub, ConditioningFolder);
            if (withConditioning && !Directory.Exists(conditioning))
            {
                throw new DatasetConfigException($"{conditioning}: the conditioning folder is missing: put one condition image per image of {sub} there, with the same file name.");
            }

            var classTokens = string.Join('_', tokens.Skip(1));
            result.Add(defaults with
            {
                ImageDirectory = sub,
                MetadataFile = null,
                NumRepeats = repeats,
                ClassTokens = classTokens.Length == 0 ? null : classTokens,
                IsReg = isReg,
                ConditioningDirectory = withConditioning ? conditioning : null,
            });
        }

        return result;
    }
}
