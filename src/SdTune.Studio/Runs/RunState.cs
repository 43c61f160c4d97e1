namespace SdTune.Studio.Runs;

/// <summary>Where a run is.</summary>
public enum RunState
{
    /// <summary>Waiting for a worker.</summary>
    Queued,

    /// <summary>A worker is training it.</summary>
    Running,

    /// <summary>Trained to the end; its outputs are written.</summary>
    Completed,

    /// <summary>Stopped on request (with <c>save_state</c>, resumable).</summary>
    Stopped,

    /// <summary>Ended with an error.</summary>
    Failed,
}
