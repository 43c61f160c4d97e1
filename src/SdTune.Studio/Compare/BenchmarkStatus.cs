using SdTune.Studio.Jobs;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Studio.Compare;

/// <summary>
/// A benchmark job as the API shows it: what was asked, the benchmark's progress lines as the worker last reported them
/// (read from the job folder's <c>status.json</c>) and, once completed, its table and the URLs of its chart and grids.
/// </summary>
public sealed record BenchmarkStatus
{
    /// <summary>The job's id (its folder name under <c>benchmarks/</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Where the job is.</summary>
    public required JobState State { get; init; }

    /// <summary>When the job was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When this status was written.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The spec's rows to run, in table order (the base model's row comes first in the table).</summary>
    public required IReadOnlyList<string> Methods { get; init; }

    /// <summary>Training steps per method.</summary>
    public required int Steps { get; init; }

    /// <summary>Seeds per row.</summary>
    public required int Seeds { get; init; }

    /// <summary>Sampling steps of the evaluation pictures.</summary>
    public required int SamplingSteps { get; init; }

    /// <summary>The benchmark's progress lines (the latest ones).</summary>
    public IReadOnlyList<string> Messages { get; init; } = [];

    /// <summary>The table: the base model's row, then one per method (empty until completed).</summary>
    public IReadOnlyList<BenchmarkRow> Rows { get; init; } = [];

    /// <summary>The chart's URL, once completed.</summary>
    public string? ChartUrl { get; init; }

    /// <summary>Why the job failed.</summary>
    public string? Error { get; init; }

    /// <summary>True once the job will not change any more (completed or failed).</summary>
    public bool IsFinal => State is JobState.Completed or JobState.Failed;
}

/// <summary>One row of a benchmark's table, as written to the job folder's <c>results.json</c>.</summary>
/// <param name="Method">The row's name (<c>base model</c> for the base model).</param>
/// <param name="Description">What it is.</param>
/// <param name="Seeds">How many seeds the measures combine.</param>
/// <param name="Mean">Each measure's mean over the seeds.</param>
/// <param name="Spread">Each measure's sample standard deviation over the seeds (zero with one seed).</param>
/// <param name="GridUrl">The first seed's grid of evaluation pictures.</param>
public sealed record BenchmarkRow(string Method, string Description, int Seeds, BenchmarkMeasures Mean, BenchmarkMeasures Spread, string GridUrl)
{
    /// <summary>The row of <paramref name="summary"/>, its grid served under <paramref name="urlPrefix"/>.</summary>
    public static BenchmarkRow Of(MethodSummary summary, string urlPrefix)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return new(summary.Method, summary.Mean.Description, summary.Rounds.Count, BenchmarkMeasures.Of(summary.Mean), BenchmarkMeasures.Of(summary.Spread), urlPrefix + Path.GetFileName(summary.Grid));
    }
}

/// <summary>A benchmark row's measures (the shares are fractions from 0 to 1).</summary>
/// <param name="SubjectFidelity">Share of identifier-prompt pictures showing the subject.</param>
/// <param name="SubjectShapeAndColors">Share of those showing its shape in its colours.</param>
/// <param name="SubjectPattern">Share of those with its pattern.</param>
/// <param name="PromptBackground">Share following the prompted background.</param>
/// <param name="PromptSize">Share following the prompted size.</param>
/// <param name="PromptPosition">Share following the prompted position.</param>
/// <param name="PriorPreservation">Share of class-prompt pictures free of the subject (1 is perfect).</param>
/// <param name="ClassFidelity">Share of class-prompt pictures showing the class as prompted.</param>
/// <param name="ClassColorEntropy">Entropy in bits of the class pictures' shape colours.</param>
/// <param name="TrainSeconds">Training wall time (0 for the base model).</param>
/// <param name="PeakMemoryBytes">Peak resident memory during training; -1 where unknown.</param>
/// <param name="OutputBytes">Size of the output file(s).</param>
public sealed record BenchmarkMeasures(
    double SubjectFidelity,
    double SubjectShapeAndColors,
    double SubjectPattern,
    double PromptBackground,
    double PromptSize,
    double PromptPosition,
    double PriorPreservation,
    double ClassFidelity,
    double ClassColorEntropy,
    double TrainSeconds,
    long PeakMemoryBytes,
    long OutputBytes)
{
    /// <summary>The measures of one score.</summary>
    public static BenchmarkMeasures Of(MethodScore s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.SubjectFidelity, s.SubjectShapeAndColors, s.SubjectPattern, s.PromptFidelity.Background, s.PromptFidelity.Size, s.PromptFidelity.Position,
            s.PriorPreservation, s.ClassFidelity, s.ClassColorEntropy, s.TrainSeconds, s.PeakMemoryBytes, s.OutputBytes);
    }
}

/// <summary>A row of the benchmark spec a benchmark job may run.</summary>
/// <param name="Name">Its name, as <c>methods</c> names it.</param>
/// <param name="Description">What it is.</param>
public sealed record BenchmarkMethodInfo(string Name, string Description);
