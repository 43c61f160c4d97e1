namespace SdTune.ToyWorld.Benchmark;

/// <summary>Settings of a control-benchmark run (<see cref="ControlBenchmark"/>).</summary>
public sealed record ControlBenchmarkOptions
{
    /// <summary>The base model (diffusers folder or single file) the controls are trained for.</summary>
    public required string BaseModel { get; init; }

    /// <summary>Where data, trained controls, the grid and the report go (created; existing runs inside are replaced).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The default of <see cref="Steps"/>.</summary>
    public const int DefaultSteps = 600;

    /// <summary>Optimizer steps of each trained control.</summary>
    public int Steps { get; init; } = DefaultSteps;

    /// <summary>The default of <see cref="Seeds"/>.</summary>
    public const int DefaultSeeds = 3;

    /// <summary>How many times every row is measured (seed k trains with <see cref="Seed"/> + k and samples with seeds of its own).</summary>
    public int Seeds { get; init; } = DefaultSeeds;

    /// <summary>The world's seed: training scenes, evaluation scenes and the first training seed.</summary>
    public long Seed { get; init; } = 1234;

    /// <summary>The side of the pictures (the toy base model's 32).</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>The kind of condition image.</summary>
    public ToyConditionMap Map { get; init; } = ToyConditionMap.Mask;

    /// <summary>(picture, condition, caption) triples in the training set, none with a held-out position × shape.</summary>
    public int TrainingPictures { get; init; } = 128;

    /// <summary>Pictures per batch.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>The default of <see cref="ControlNetLearningRate"/>.</summary>
    public const double DefaultControlNetLearningRate = 3e-4;

    /// <summary>The ControlNet's learning rate (AdamW, constant).</summary>
    public double ControlNetLearningRate { get; init; } = DefaultControlNetLearningRate;

    /// <summary>The default of <see cref="AdapterLearningRate"/>.</summary>
    public const double DefaultAdapterLearningRate = 1e-3;

    /// <summary>The T2I-Adapter's learning rate (AdamW, constant).</summary>
    public double AdapterLearningRate { get; init; } = DefaultAdapterLearningRate;

    /// <summary>Pictures per held-out position × shape and seed.</summary>
    public int ImagesPerCase { get; init; } = 2;

    /// <summary>The sampler of the evaluation pictures.</summary>
    public string Sampler { get; init; } = "DPM++ 2M";

    /// <summary>Sampling steps of the evaluation pictures.</summary>
    public int SamplingSteps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale of the evaluation pictures.</summary>
    public double CfgScale { get; init; } = 6.0;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Steps < 1 || BatchSize < 1 || SamplingSteps < 1 || ImagesPerCase < 1 || TrainingPictures < 1)
        {
            throw new ArgumentException($"--steps ({Steps}), the batch size ({BatchSize}), sampling steps ({SamplingSteps}), pictures per case ({ImagesPerCase}) and training pictures ({TrainingPictures}) must be at least 1.");
        }

        if (Seeds is < 1 or > 100)
        {
            throw new ArgumentException($"--seeds must be from 1 to 100 (got {Seeds}).");
        }

        if (!(ControlNetLearningRate > 0) || !(AdapterLearningRate > 0) || double.IsInfinity(ControlNetLearningRate) || double.IsInfinity(AdapterLearningRate))
        {
            throw new ArgumentException($"The learning rates must be positive and finite (ControlNet {ControlNetLearningRate}, T2I-Adapter {AdapterLearningRate}).");
        }

        if (!(CfgScale >= 1))
        {
            throw new ArgumentException($"The guidance scale must be at least 1 (got {CfgScale}).");
        }
    }
}
