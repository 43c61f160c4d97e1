using SdTune.Training;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>Settings of a concept-benchmark run.</summary>
public sealed record BenchmarkOptions
{
    /// <summary>The base model (diffusers folder or single file) every method starts from.</summary>
    public required string BaseModel { get; init; }

    /// <summary>The subject, class word, prompts and placements.</summary>
    public required BenchmarkSpec Spec { get; init; }

    /// <summary>Where data, trained outputs, grids and the report go (created; existing runs inside are replaced).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The methods to run, in table order.</summary>
    public IReadOnlyList<BenchmarkMethod> Methods { get; init; } = BenchmarkMethods.All;

    /// <summary>The default of <see cref="Steps"/>.</summary>
    public const int DefaultSteps = 300;

    /// <summary>Optimizer steps per method.</summary>
    public int Steps { get; init; } = DefaultSteps;

    /// <summary>The default of <see cref="Seeds"/>.</summary>
    public const int DefaultSeeds = 3;

    /// <summary>
    /// How many times every row is measured: seed k (from 0) trains with the spec's seed + k and generates its
    /// evaluation pictures with seeds of its own, so the table can give each measure's mean and spread.
    /// </summary>
    public int Seeds { get; init; } = DefaultSeeds;

    /// <summary>Instance pictures per batch.</summary>
    public int BatchSize { get; init; } = 5;

    /// <summary>The sampler used for the evaluation pictures.</summary>
    public string Sampler { get; init; } = "DPM++ 2M";

    /// <summary>Sampling steps of the evaluation pictures.</summary>
    public int SamplingSteps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale of the evaluation pictures.</summary>
    public double CfgScale { get; init; } = 6.0;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Methods.Count == 0)
        {
            throw new ArgumentException("Name at least one method to benchmark.");
        }

        if (Steps < 1 || BatchSize < 1 || SamplingSteps < 1)
        {
            throw new ArgumentException($"Steps ({Steps}), batch size ({BatchSize}) and sampling steps ({SamplingSteps}) must be at least 1.");
        }

        if (Seeds is < 1 or > 100)
        {
            throw new ArgumentException($"--seeds must be from 1 to 100 (got {Seeds}).");
        }

        if (!(CfgScale >= 1))
        {
            throw new ArgumentException($"The guidance scale must be at least 1 (got {CfgScale}).");
        }
    }
}
