using System.Globalization;
using SdTune.Models;
using SdTune.Options;
using SdTune.Training.Data;

namespace SdTune.Training;

/// <summary>
/// A configuration as a run uses it, settled against the model and the dataset before anything is printed, recorded or
/// trained. A <c>resolution</c> not given is the model's own size (<see cref="StableDiffusionModel.DefaultImageSize"/>);
/// <c>v_parameterization</c> not given is what the model predicts; <c>release_freed_memory</c> not given follows
/// <c>gradient_checkpointing</c>. A dataset TOML's own <c>resolution</c>, <c>batch_size</c> and
/// <c>caption_extension</c> win over the configuration's, which fill in where a dataset sets none (as sd-scripts'
/// arguments do). <see cref="ToToml"/> writes what runs.
/// </summary>
public sealed class ResolvedTrainingConfig
{
    /// <summary>The file the trainer writes the resolved configuration to, in its output folder.</summary>
    public const string FileName = "config.resolved.toml";

    private ResolvedTrainingConfig(TrainingConfig config, DatasetConfig? dataset, PixelSize resolution, IReadOnlyList<string> warnings)
    {
        Config = config;
        Dataset = dataset;
        Resolution = resolution;
        Warnings = warnings;
    }

    /// <summary>The configuration with the values above filled in.</summary>
    public TrainingConfig Config { get; }

    /// <summary>The datasets as they run (from the dataset TOML or the folder convention); null for <c>instance_data_dir</c>.</summary>
    public DatasetConfig? Dataset { get; }

    /// <summary>
    /// The resolution the run trains at, recorded as <c>modelspec.resolution</c>: the first dataset's (datasets of a TOML
    /// may differ), or the configuration's.
    /// </summary>
    public PixelSize Resolution { get; }

    /// <summary>What reading the datasets found worth telling (ignored folders).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Validates <paramref name="config"/> and resolves it against <paramref name="model"/> and its dataset.</summary>
    /// <exception cref="TrainingConfigException">A value is invalid, or out of range for this model.</exception>
    /// <exception cref="DatasetConfigException">The dataset TOML or folders are invalid.</exception>
    /// <remarks>The sample prompts file, when samples are asked for, is read and checked too.</remarks>
    public static ResolvedTrainingConfig Resolve(TrainingConfig config, StableDiffusionModel model)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        config.Validate();
        RequireClipSkipFits(config, model);
        var resolved = config with
        {
            Resolution = config.Resolution ?? model.DefaultImageSize.ToString(CultureInfo.InvariantCulture),
            VParameterization = config.VParameterization ?? model.PredictionType switch
            {
                PredictionType.VPrediction => true,
                PredictionType.Epsilon => false,
                _ => null,
            },
            ReleaseFreedMemory = config.ReleaseFreedMemory ?? config.GradientCheckpointing,
        };
        if (config.SamplePrompts is { } prompts && (config.SampleEveryNSteps is not null || config.SampleEveryNEpochs is not null))
        {
            _ = SamplePromptFile.Load(prompts);
        }

        var size = resolved.ResolutionSize!.Value;
        var warnings = new List<string>();
        var dataset = resolved.InstanceDataDir is null ? ReadDataset(resolved, size, warnings) : null;
        dataset?.ValidateBucketResoSteps(model.Architecture == SdArchitecture.SdxlBase ? 32 : 64);
        return new ResolvedTrainingConfig(resolved, dataset, dataset?.Datasets[0].Resolution ?? size, warnings);
    }

    /// <summary>
    /// The configuration as it runs, as TOML that <see cref="TrainingConfig.Parse"/> reads back to the same run: keys
    /// that do not apply to this run are left out (those set to something other than their default are listed as
    /// comments saying why), and the datasets' own values follow as comments.
    /// </summary>
    public string ToToml() => ResolvedTrainingConfigWriter.Write(this, comments: true);

    /// <summary>True when <paramref name="other"/> (read from a state folder) trains the same way as this configuration, apart from where it writes and resumes.</summary>
    internal bool SameRunAs(TrainingConfig other)
    {
        static TrainingConfig Comparable(TrainingConfig c) => c with { Resume = null, OutputDir = null, SaveState = false };
        var mine = new ResolvedTrainingConfig(Comparable(Config), Dataset, Resolution, Warnings);
        var theirs = new ResolvedTrainingConfig(Comparable(other), Dataset, Resolution, Warnings);
        return ResolvedTrainingConfigWriter.Write(mine, comments: false) == ResolvedTrainingConfigWriter.Write(theirs, comments: false);
    }

    private static DatasetConfig ReadDataset(TrainingConfig config, PixelSize size, List<string> warnings)
    {
        var conditioning = Methods.TrainingMethods.Find(config.Method)?.ConditioningImages ?? false;
        var dataset = config.DatasetConfig is { } path
            ? DatasetConfig.Load(path, new DatasetFallbacks(size, config.TrainBatchSize, config.CaptionExtension))
            : DatasetConfig.FromFolders(
                config.TrainDataDir!,
                config.RegDataDir,
                config.FolderDatasetOptions(size),
                new SubsetOptions { CaptionExtension = config.CaptionExtension },
                warnings,
                conditioning);
        return dataset with { PriorLossWeight = config.PriorLossWeight, RequireConditioning = conditioning };
    }

    private static void RequireClipSkipFits(TrainingConfig config, StableDiffusionModel model)
    {
        var layers = Math.Min(model.TextEncoder.Config.NumHiddenLayers, model.TextEncoder2?.Config.NumHiddenLayers ?? int.MaxValue);
        if (config.ClipSkip is { } skip && new NumericRange(NumberType.Int32, 1, layers).Problem(skip) is { } problem)
        {
            throw new TrainingConfigException("clip_skip", $"{problem[..^1]} (this model's text encoder has {layers} layers).");
        }
    }
}
