namespace SdTune.Training;

/// <summary>
/// Everything the rest of SdTune knows about one training method, declared in the method's own file and registered
/// with one line in <see cref="Methods.TrainingMethods"/>: its name, its option keys (read from the TOML file,
/// overrides and generated <c>sdtune train &lt;name&gt;</c> flags), its checks between keys, what it trains, how its
/// output is used at inference, and its rows in the concept benchmark. The training itself is the
/// <see cref="ITrainingMethod"/> that <see cref="Create"/> makes for each run.
/// </summary>
public sealed record TrainingMethodDefinition
{
    /// <summary>The name in <c>method = "…"</c> and <c>sdtune train &lt;name&gt;</c>.</summary>
    public required string Name { get; init; }

    /// <summary>One line for <c>sdtune train --help</c>.</summary>
    public required string Summary { get; init; }

    /// <summary>Creates the method for one run.</summary>
    public required Func<ITrainingMethod> Create { get; init; }

    /// <summary>The method's own keys (each also a flag of its subcommand). A key may be shared with other methods by listing the same object.</summary>
    public IReadOnlyList<TrainingConfigKey> Options { get; init; } = [];

    /// <summary>Checks between keys beyond each key's own range; throws <see cref="TrainingConfigException"/> naming the key.</summary>
    public Action<TrainingConfig> Validate { get; init; } = _ => { };

    /// <summary>
    /// The method trains on (image, condition image, caption): every dataset image must have a condition image (the
    /// folder convention's <c>conditioning</c> folder in each subset folder, a subset's <c>conditioning_data_dir</c>, or
    /// a <c>metadata.jsonl</c> line's <c>conditioning_file_name</c>).
    /// </summary>
    public bool ConditioningImages { get; init; }

    /// <summary>Which parts of the model a configuration trains (decides which shared keys apply to the run).</summary>
    public required Func<TrainingConfig, TrainedParts> Trains { get; init; }

    /// <summary>How a saved output is used at inference.</summary>
    public required TrainedOutput Output { get; init; }

    /// <summary>The method's rows in the concept benchmark (<c>sdtune bench methods</c>), with settings for the toy model.</summary>
    public IReadOnlyList<BenchmarkMethod> Benchmarks { get; init; } = [];
}

/// <summary>What a configuration trains.</summary>
/// <param name="Unet">Some UNet weights (or adapters on them) are trained.</param>
/// <param name="TextEncoder">Some text-encoder weights (or adapters, or embeddings) are trained.</param>
/// <param name="TextEncoderToTheEnd">The text-encoder part is trained for the whole run (not stopped early).</param>
public sealed record TrainedParts(bool Unet, bool TextEncoder, bool TextEncoderToTheEnd);
