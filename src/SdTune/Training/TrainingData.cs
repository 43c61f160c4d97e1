using SdTune.Training.Data;

namespace SdTune.Training;

/// <summary>
/// The run's batches, from whichever dataset the configuration names: a kohya dataset TOML, the folder convention
/// (train_data_dir/reg_data_dir), or DreamBooth instance/class folders. Batches are a pure function of the seed and the
/// epoch, so a resume needs only the position.
/// </summary>
internal sealed class TrainingData
{
    private readonly Func<int, IReadOnlyList<TrainingBatch>> getEpoch;

    private TrainingData(int batchesPerEpoch, int trainImages, int regImages, DatasetSummary? summary, Func<int, IReadOnlyList<TrainingBatch>> getEpoch)
    {
        BatchesPerEpoch = batchesPerEpoch;
        TrainImages = trainImages;
        RegImages = regImages;
        Summary = summary;
        this.getEpoch = getEpoch;
    }

    public int BatchesPerEpoch { get; }

    public int TrainImages { get; }

    public int RegImages { get; }

    public DatasetSummary? Summary { get; }

    public static TrainingData Build(ResolvedTrainingConfig resolved, IImageReader reader, ICollection<string> warnings)
    {
        var config = resolved.Config;
        if (resolved.Dataset is not { } datasetConfig)
        {
            var dataset = PriorPreservationDataset.Build(PriorPreservationOptionsOf(config), reader, config.Seed);
            var length = dataset.Length;
            return new TrainingData(dataset.BatchesPerEpoch, length, dataset.Options.WithPriorPreservation ? length : 0, null, dataset.GetEpoch);
        }

        var built = TrainingDataset.Build(datasetConfig, reader, config.Seed);
        foreach (var w in built.Warnings)
        {
            warnings.Add(w);
        }

        var total = config.MaxTrainSteps ?? 0;
        return new TrainingData(built.BatchesPerEpoch, built.Summary.TrainImagesWithRepeats, built.Summary.RegImagesWithRepeats, built.Summary, epoch => built.GetEpoch(epoch, total));
    }

    public static PriorPreservationOptions PriorPreservationOptionsOf(TrainingConfig config) => new()
    {
        InstanceDataDirectory = config.InstanceDataDir!,
        InstancePrompt = config.InstancePrompt!,
        ClassDataDirectory = config.ClassDataDir,
        ClassPrompt = config.ClassPrompt,
        WithPriorPreservation = config.WithPriorPreservation,
        PriorLossWeight = config.PriorLossWeight,
        NumClassImages = config.NumClassImages,
        Resolution = (config.ResolutionSize ?? throw new InvalidOperationException("The configuration is not resolved against the model.")).Width,
        CenterCrop = config.CenterCrop,
        BatchSize = config.TrainBatchSize,
    };

    public IReadOnlyList<TrainingBatch> GetEpoch(int epoch) => getEpoch(epoch);
}
