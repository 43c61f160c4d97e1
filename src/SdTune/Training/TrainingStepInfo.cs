namespace SdTune.Training;

/// <summary>Where the run is, for method hooks.</summary>
/// <param name="GlobalStep">Optimizer steps completed before this one.</param>
/// <param name="TotalSteps">Optimizer steps of the whole run.</param>
/// <param name="Epoch">The current epoch (1-based).</param>
public readonly record struct TrainingStepInfo(long GlobalStep, long TotalSteps, int Epoch)
{
    /// <summary>The fraction of the run done before this step, in [0, 1].</summary>
    public double Fraction => TotalSteps <= 0 ? 1 : Math.Min(1, (double)GlobalStep / TotalSteps);

    /// <summary>Whether this step is the first of a period of <paramref name="every"/> steps (step 0, N, 2N...).</summary>
    public bool IsEvery(long every) => every > 0 && GlobalStep % every == 0;
}
