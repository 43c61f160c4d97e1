using SdTune.Studio.Jobs;

namespace SdTune.Studio.Generation;

/// <summary>
/// A queued generation as the API shows it: its prompt, where it is and, once completed, the images (saved under
/// <c>outputs/</c> as <c>POST /api/generate</c> saves them), read from the job folder's <c>status.json</c>.
/// </summary>
public sealed record GenerationStatus
{
    /// <summary>The job's id (its folder name under <c>generations/</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Where the job is.</summary>
    public required JobState State { get; init; }

    /// <summary>When the job was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When this status was written.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The prompt asked for (the full request is the job folder's <c>request.json</c>).</summary>
    public required string Prompt { get; init; }

    /// <summary>The images, in batch order, once completed.</summary>
    public IReadOnlyList<GeneratedImageInfo> Images { get; init; } = [];

    /// <summary>The grid of the batch, when asked for.</summary>
    public GeneratedImageInfo? Grid { get; init; }

    /// <summary>What the pipeline warned about.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Wall time of the generation.</summary>
    public double? Seconds { get; init; }

    /// <summary>Why the job failed.</summary>
    public string? Error { get; init; }

    /// <summary>The request field the error concerns, when it concerns one.</summary>
    public string? ErrorField { get; init; }

    /// <summary>True once the job will not change any more (completed or failed).</summary>
    public bool IsFinal => State is JobState.Completed or JobState.Failed;
}
