using SdTune.Training.Data;

namespace SdTune.Training;

/// <summary>Facts about the run for output metadata (kohya's <c>ss_*</c> keys and the like).</summary>
public sealed record TrainingRunInfo
{
    /// <summary>The configuration.</summary>
    public required TrainingConfig Config { get; init; }

    /// <summary>A random 32-bit session id (<c>ss_session_id</c>), kept across resumes.</summary>
    public required long SessionId { get; init; }

    /// <summary>When training started (<c>ss_training_started_at</c>).</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Optimizer steps done so far (<c>ss_steps</c>).</summary>
    public required long Step { get; init; }

    /// <summary>The current epoch (<c>ss_epoch</c>).</summary>
    public required int Epoch { get; init; }

    /// <summary>Total optimizer steps (<c>ss_max_train_steps</c>).</summary>
    public required long TotalSteps { get; init; }

    /// <summary>Total epochs (<c>ss_num_epochs</c>).</summary>
    public required int TotalEpochs { get; init; }

    /// <summary>The resolution the run trains at (<c>modelspec.resolution</c>, <c>ss_resolution</c>).</summary>
    public required PixelSize Resolution { get; init; }

    /// <summary>Micro-batches per epoch (<c>ss_num_batches_per_epoch</c>).</summary>
    public required int BatchesPerEpoch { get; init; }

    /// <summary>Training images with repeats (<c>ss_num_train_images</c>).</summary>
    public required int TrainImages { get; init; }

    /// <summary>Regularisation (class) images with repeats (<c>ss_num_reg_images</c>).</summary>
    public required int RegImages { get; init; }

    /// <summary>The kohya dataset summary, when the data came from a dataset config or folders.</summary>
    public DatasetSummary? Dataset { get; init; }

    /// <summary>The optimizer and its arguments as one string (<c>ss_optimizer</c>).</summary>
    public required string Optimizer { get; init; }

    /// <summary>Learning-rate warm-up steps (<c>ss_lr_warmup_steps</c>).</summary>
    public required long WarmupSteps { get; init; }
}
