using SdTune.Studio.Jobs;

namespace SdTune.Studio.Compare;

/// <summary>
/// An X/Y grid job as the API shows it: the settings asked for, the generation's progress as the worker last reported
/// it (read from the job folder's <c>status.json</c>) and, once completed, the grid's URL. Rows are the runs (each with
/// its LoRA applied), after a base model row when asked for; columns are the prompts, or the LoRA weights when given
/// (then one panel per prompt).
/// </summary>
public sealed record GridStatus
{
    /// <summary>The job's id (its folder name under <c>grids/</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Where the job is.</summary>
    public required JobState State { get; init; }

    /// <summary>When the job was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When this status was written.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The completed runs whose LoRAs make the rows.</summary>
    public required IReadOnlyList<string> Runs { get; init; }

    /// <summary>The prompts (the columns, or the panels when <see cref="Weights"/> are given).</summary>
    public required IReadOnlyList<string> Prompts { get; init; }

    /// <summary>The LoRA weights (the columns); empty for weight 1 and prompts as columns.</summary>
    public IReadOnlyList<double> Weights { get; init; } = [];

    /// <summary>True for a first row with the base model alone.</summary>
    public bool IncludeBase { get; init; }

    /// <summary>The negative prompt of every cell.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>The seed every cell shares.</summary>
    public required long Seed { get; init; }

    /// <summary>Sampling steps.</summary>
    public required int Steps { get; init; }

    /// <summary>The sampler.</summary>
    public required string Sampler { get; init; }

    /// <summary>CFG scale.</summary>
    public required double Cfg { get; init; }

    /// <summary>Picture width; null for the model's own.</summary>
    public int? Width { get; init; }

    /// <summary>Picture height; null for the model's own.</summary>
    public int? Height { get; init; }

    /// <summary>Pictures generated so far.</summary>
    public int Cell { get; init; }

    /// <summary>Pictures of the grid.</summary>
    public int Cells { get; init; }

    /// <summary>The grid's URL (a PNG with A1111's parameters of its first picture), once completed.</summary>
    public string? ImageUrl { get; init; }

    /// <summary>Each picture's URL (panel by panel, row by row, left to right), once completed.</summary>
    public IReadOnlyList<string> CellUrls { get; init; } = [];

    /// <summary>What the pipeline warned about.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Why the job failed.</summary>
    public string? Error { get; init; }

    /// <summary>True once the job will not change any more (completed or failed).</summary>
    public bool IsFinal => State is JobState.Completed or JobState.Failed;
}
