namespace SdTune.Training;

/// <summary>A progress report after each optimizer step.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="TotalSteps">Optimizer steps of the run.</param>
/// <param name="Epoch">The current epoch (1-based).</param>
/// <param name="TotalEpochs">Epochs of the run.</param>
/// <param name="Loss">The step's loss (mean over its micro-batches).</param>
/// <param name="AverageLoss">Mean loss over the recent steps (up to 100).</param>
/// <param name="LearningRates">The learning rate of each parameter group used in the step, by group name.</param>
/// <param name="StepsPerSecond">Optimizer steps per second in this session.</param>
/// <param name="Remaining">Estimated time to the end.</param>
public sealed record TrainingProgress(
    long Step,
    long TotalSteps,
    int Epoch,
    int TotalEpochs,
    double Loss,
    double AverageLoss,
    IReadOnlyDictionary<string, double> LearningRates,
    double StepsPerSecond,
    TimeSpan Remaining);
