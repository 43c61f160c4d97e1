namespace SdTune.Studio.Runs;

/// <summary>
/// A run as the API shows it: what was asked, and its progress as last reported by the worker training it (read from
/// the run folder's <c>progress.json</c>, so a worker on another machine sharing the folder reports too).
/// </summary>
public sealed record RunStatus
{
    /// <summary>The run's id (its folder name under <c>runs/</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Where the run is.</summary>
    public required RunState State { get; init; }

    /// <summary>The training method.</summary>
    public required string Method { get; init; }

    /// <summary>The base model's name (<c>toy</c>, or a path under <c>models/</c>).</summary>
    public required string BaseModel { get; init; }

    /// <summary>The dataset folder, relative to <c>datasets/</c>.</summary>
    public required string Dataset { get; init; }

    /// <summary>When the run was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When this status was written.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Optimizer steps done.</summary>
    public long Step { get; init; }

    /// <summary>Optimizer steps of the run (0 until training starts).</summary>
    public long TotalSteps { get; init; }

    /// <summary>The current epoch (1-based; 0 until training starts).</summary>
    public int Epoch { get; init; }

    /// <summary>Epochs of the run.</summary>
    public int TotalEpochs { get; init; }

    /// <summary>The last step's loss.</summary>
    public double? Loss { get; init; }

    /// <summary>Mean loss over the recent steps.</summary>
    public double? AverageLoss { get; init; }

    /// <summary>Optimizer steps per second in this session.</summary>
    public double? ItPerSecond { get; init; }

    /// <summary>Estimated seconds to the end.</summary>
    public double? EtaSeconds { get; init; }

    /// <summary>The step the current session resumed from (a saved state), when it resumed.</summary>
    public long? ResumedFromStep { get; init; }

    /// <summary>Output files written so far, relative to the run folder.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];

    /// <summary>Warnings and notes of the trainer (the latest ones).</summary>
    public IReadOnlyList<string> Messages { get; init; } = [];

    /// <summary>Why the run failed.</summary>
    public string? Error { get; init; }

    /// <summary>The training key the error concerns, when it concerns one.</summary>
    public string? ErrorField { get; init; }

    /// <summary>True once the run will not change any more without a request (completed, stopped or failed).</summary>
    public bool IsFinal => State is RunState.Completed or RunState.Stopped or RunState.Failed;
}
