namespace SdTune.Training;

/// <summary>
/// A <see cref="TrainerServices.Progress"/> that calls <paramref name="report"/> on the training thread after each
/// step (unlike <see cref="Progress{T}"/>, which posts to a synchronization context), so the callback sees the model
/// as the step left it and can stop or inspect the run.
/// </summary>
/// <param name="report">Called with each step's report.</param>
public sealed class TrainingProgressCallback(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    /// <inheritdoc />
    public void Report(TrainingProgress value) => report(value);
}
