namespace SdTune.Training.Data;

/// <summary>
/// A kohya-style dataset configuration: <c>[general]</c>, <c>[[datasets]]</c> and <c>[[datasets.subsets]]</c>,
/// with each subset's values resolved (subset overrides dataset overrides general overrides default).
/// Read it from TOML with <see cref="Load"/>/<see cref="Parse"/> or build it from the folder convention with
/// <see cref="FromFolders"/>.
/// </summary>
public sealed record DatasetConfig
{
    /// <summary>Where the configuration came from (a file path, or a description); used in error messages.</summary>
    public string Source { get; init; } = "";

    /// <summary>The <c>[[datasets]]</c> blocks in file order.</summary>
    public IReadOnlyList<DatasetOptions> Datasets { get; init; } = [];

    /// <summary><c>prior_loss_weight</c> (1.0, <c>[general]</c> only): the loss weight of regularisation images.</summary>
    public double PriorLossWeight { get; init; } = 1.0;

    /// <summary><c>max_token_length</c> (<c>[general]</c> only): 75, 150 or 225; null for the tokenizer's 77.</summary>
    public int? MaxTokenLength { get; init; }

    /// <summary><c>debug_dataset</c> (<c>[general]</c> only).</summary>
    public bool DebugDataset { get; init; }

    /// <summary>
    /// Every image must have a condition image (ControlNet and T2I-Adapter training): from its subset's
    /// <c>conditioning_data_dir</c> or its <c>metadata.jsonl</c> line; an image without one is an error naming it.
    /// </summary>
    public bool RequireConditioning { get; init; }

    /// <summary>The keys (<c>resolution</c>, <c>batch_size</c>, <c>caption_extension</c>) that some dataset or subset took from the <see cref="DatasetFallbacks"/>.</summary>
    public IReadOnlySet<string> FallbacksUsed { get; init; } = new HashSet<string>();

    /// <summary>Reads and validates a TOML dataset configuration. Relative <c>image_dir</c>/<c>metadata_file</c> paths are taken relative to the file's folder.</summary>
    /// <param name="path">The TOML file.</param>
    /// <param name="fallbacks">Values for datasets and subsets that do not set their own (the training configuration's); null for none.</param>
    /// <exception cref="DatasetConfigException">The file is not valid; the message names the file, the level and the key.</exception>
    public static DatasetConfig Load(string path, DatasetFallbacks? fallbacks = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetConfigException($"{path}: cannot read the dataset configuration: {e.Message}", e);
        }

        return Parse(text, path, Path.GetDirectoryName(Path.GetFullPath(path)), fallbacks);
    }

    /// <summary>Parses and validates a TOML dataset configuration.</summary>
    /// <param name="toml">The TOML text.</param>
    /// <param name="sourceName">The name used in error messages (usually the file path).</param>
    /// <param name="baseDirectory">Relative paths are resolved against this folder; null keeps them as written.</param>
    /// <param name="fallbacks">Values for datasets and subsets that do not set their own (the training configuration's); null for none.</param>
    /// <exception cref="DatasetConfigException">The text is not valid; the message names the source, the level and the key.</exception>
    public static DatasetConfig Parse(string toml, string sourceName, string? baseDirectory = null, DatasetFallbacks? fallbacks = null) =>
        DatasetConfigParser.Parse(toml, sourceName, baseDirectory, fallbacks);

    /// <summary>
    /// Builds the configuration sd-scripts derives from <c>--train_data_dir</c>/<c>--reg_data_dir</c>: each
    /// subfolder <c>N_concept words</c> is a subset with <c>num_repeats = N</c> and <c>class_tokens = "concept words"</c>;
    /// folders under <paramref name="regDataDirectory"/> are regularisation subsets. Folders whose name does not start
    /// with an integer are ignored with a warning; N below 1 is skipped with a warning.
    /// </summary>
    /// <param name="trainDataDirectory">The training folder.</param>
    /// <param name="regDataDirectory">The regularisation folder, or null.</param>
    /// <param name="dataset">Dataset-level settings (resolution, bucketing, batch size); its subsets are replaced.</param>
    /// <param name="subsetDefaults">Settings every subset starts from (caption extension, shuffling...).</param>
    /// <param name="warnings">Receives the warnings.</param>
    /// <param name="withConditioning">
    /// Pair every image with a condition image from the <c>conditioning</c> folder inside its subset folder (same file
    /// stem); a subset folder without one is an error.
    /// </param>
    /// <remarks>A training folder holding a <c>metadata.jsonl</c> is read as one diffusers imagefolder subset instead.</remarks>
    /// <exception cref="DatasetConfigException">A folder is missing or no subset was found.</exception>
    public static DatasetConfig FromFolders(
        string trainDataDirectory,
        string? regDataDirectory,
        DatasetOptions dataset,
        SubsetOptions subsetDefaults,
        ICollection<string> warnings,
        bool withConditioning = false) =>
        FolderDatasetConvention.Build(trainDataDirectory, regDataDirectory, dataset, subsetDefaults, warnings, withConditioning);

    /// <summary>
    /// Checks that every dataset's <c>bucket_reso_steps</c> is a multiple of what the model needs
    /// (sd-scripts asks 64 for SD 1.x/2.x and 32 for SDXL).
    /// </summary>
    /// <param name="requiredMultiple">The multiple the model needs.</param>
    /// <exception cref="DatasetConfigException">A dataset's steps are not a multiple; the message names it.</exception>
    public void ValidateBucketResoSteps(int requiredMultiple)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requiredMultiple, 1);
        for (var i = 0; i < Datasets.Count; i++)
        {
            var d = Datasets[i];
            if (d.EnableBucket && d.BucketResoSteps % requiredMultiple != 0)
            {
                throw new DatasetConfigException(
                    $"{Source}: [[datasets]] #{i + 1}: key 'bucket_reso_steps' is {d.BucketResoSteps}; this model needs a multiple of {requiredMultiple}.");
            }
        }
    }
}
