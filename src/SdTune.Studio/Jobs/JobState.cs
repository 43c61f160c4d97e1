namespace SdTune.Studio.Jobs;

/// <summary>Where a benchmark or grid job is.</summary>
public enum JobState
{
    /// <summary>Waiting for a worker.</summary>
    Queued,

    /// <summary>A worker runs it.</summary>
    Running,

    /// <summary>Done; its files are written.</summary>
    Completed,

    /// <summary>Ended with an error.</summary>
    Failed,
}
