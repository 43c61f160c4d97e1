namespace SdTune.Training.Loop;

/// <summary>Where a run is: what a resumable state records besides tensors, and what a resumed run starts from.</summary>
internal sealed class TrainingPosition
{
    /// <summary>Optimizer steps done.</summary>
    public long GlobalStep { get; set; }

    /// <summary>The current epoch (1-based).</summary>
    public int Epoch { get; set; } = 1;

    /// <summary>The next micro-batch of the epoch.</summary>
    public int BatchIndex { get; set; }

    /// <summary>The run's id in the kohya metadata (kept across resumes).</summary>
    public long SessionId { get; set; } = Random.Shared.NextInt64(0, 1L << 32);

    /// <summary>When the run started (kept across resumes).</summary>
    public DateTimeOffset StartedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The last output or state folder written (named when training diverges).</summary>
    public string? LastSave { get; set; }

    /// <summary>The epoch a save between steps belongs to: the one just completed when at an epoch's start.</summary>
    public int SavedEpoch => BatchIndex == 0 ? Math.Max(1, Epoch - 1) : Epoch;
}
