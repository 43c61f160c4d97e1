namespace SdTune.Training;

/// <summary>Where the run is, for method hooks.</summary>
/// <param name="GlobalStep">Optimizer steps completed before this one.</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="Epoch">The current epoch (1-based).</param>
public readonly record struct TrainingStepInfo(long GlobalStep, long TotalSteps, int Epoch);
