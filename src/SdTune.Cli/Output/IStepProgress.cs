namespace SdTune.Cli.Output;

/// <summary>Where a command reports the progress of a run of numbered steps (sampling or training steps).</summary>
internal interface IStepProgress
{
    /// <summary>Step <paramref name="step"/> of <paramref name="total"/> is done; <paramref name="description"/> says where the run is.</summary>
    void Report(long step, long total, string description);

    /// <summary>A message to show beside the progress (a warning, a file written).</summary>
    void Log(string message);
}
