using System.Globalization;

namespace SdTune.Training.Data;

/// <summary>
/// sd-scripts' folder convention: every subfolder <c>N_concept words</c> of the training folder is a subset
/// repeated N times with class tokens "concept words"; subfolders of the regularisation folder are reg subsets.
/// </summary>
internal static class FolderDatasetConvention
{
    public static DatasetConfig Build(
        string trainDataDirectory,
        string? regDataDirectory,
        DatasetOptions dataset,
        SubsetOptions subsetDefaults,
        ICollection<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(trainDataDirectory);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(subsetDefaults);
        ArgumentNullException.ThrowIfNull(warnings);

        var subsets = new List<SubsetOptions>();
        subsets.AddRange(SubsetsOf(trainDataDirectory, isReg: false, subsetDefaults, warnings, "train_data_dir"));
        if (regDataDirectory is not null)
        {
            subsets.AddRange(SubsetsOf(regDataDirectory, isReg: true, subsetDefaults, warnings, "reg_data_dir"));
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

    private static List<SubsetOptions> SubsetsOf(string directory, bool isReg, SubsetOptions defaults, ICollection<string> warnings, string option)
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

            var classTokens = string.Join('_', tokens.Skip(1));
            result.Add(defaults with
            {
                ImageDirectory = sub,
                MetadataFile = null,
                NumRepeats = repeats,
                ClassTokens = classTokens.Length == 0 ? null : classTokens,
                IsReg = isReg,
            });
        }

        return result;
    }
}
