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

    /// <summary>The default of <see cref="SamplingSteps"/>.</summary>
    public const int DefaultSamplingSteps = 20;

    /// <summary>Sampling steps of the evaluation pictures.</summary>
    public int SamplingSteps { get; init; } = DefaultSamplingSteps;

    /// <summary>Classifier-free guidance scale of the evaluation pictures.</summary>
    public double CfgScale { get; init; } = 6.0;

    /// <summary>
    /// The options of a benchmark of <paramref name="spec"/>'s rows: the rows named in <paramref name="methods"/> (any
    /// case, in the order given), or every row of the spec when it is null; the other settings at their defaults.
    /// </summary>
    /// <param name="spec">The benchmark spec.</param>
    /// <param name="baseModel">The base model every method starts from.</param>
    /// <param name="outputDirectory">Where the benchmark writes.</param>
    /// <param name="methods">The rows to run, or null for all of them.</param>
    /// <exception cref="ArgumentException">A name is not a row of the spec; the message lists the rows.</exception>
    public static BenchmarkOptions ForSpec(BenchmarkSpec spec, string baseModel, string outputDirectory, IEnumerable<string>? methods = null)
    {
        var rows = BenchmarkMethods.For(spec);
        return new BenchmarkOptions
        {
            BaseModel = baseModel,
            Spec = spec,
            OutputDirectory = outputDirectory,
            Methods = methods is null ? rows : [.. methods.Select(n => BenchmarkMethods.Get(n, rows))],
        };
    }

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
