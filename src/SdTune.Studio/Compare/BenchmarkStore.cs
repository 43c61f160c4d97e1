using System.Text.Json.Nodes;
using SdTune.Studio.Generation;
using SdTune.Studio.Jobs;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Studio.Compare;

/// <summary>
/// The benchmark jobs' folders under <c>benchmarks/</c>: <c>status.json</c> (the <see cref="BenchmarkStatus"/>, replaced
/// atomically on every write) and what the library's <see cref="MethodBenchmark"/> writes there: <c>report.md</c>,
/// <c>chart.png</c>, one <c>grid-*.png</c> per row, <c>results.json</c> (the table's numbers) and each method's trained outputs.
/// The benchmark runs the studio's benchmark spec on the embedded toy base model.
/// </summary>
public sealed class BenchmarkStore(StudioHome home)
{
    /// <summary>The status file's name.</summary>
    public const string StatusFile = "status.json";

    /// <summary>The results' file name: the table's rows as JSON (<see cref="BenchmarkRow"/>).</summary>
    public const string ResultsFile = "results.json";

    /// <summary>The request's fields.</summary>
    public static readonly IReadOnlyList<string> Fields = ["methods", "steps", "seeds", "sampling_steps"];

    /// <summary>The most training steps per method a request may ask for.</summary>
    public const int MaxSteps = 100_000;

    /// <summary>The most seeds per row a request may ask for.</summary>
    public const int MaxSeeds = 100;

    private readonly JobFolders<BenchmarkStatus> folders = new(home.Benchmarks, StatusFile, b => (b.Id, b.CreatedAt), b => b with { UpdatedAt = DateTimeOffset.UtcNow });

    /// <summary>The studio's folder.</summary>
    public StudioHome Home { get; } = home;

    /// <summary>The job's folder (the benchmark's output folder).</summary>
    public string Folder(string id) => folders.Folder(id);

    /// <summary>The job's status, or null when there is no such job.</summary>
    public BenchmarkStatus? Read(string id) => folders.Read(id);

    /// <summary>Every benchmark job, newest first.</summary>
    public IReadOnlyList<BenchmarkStatus> All() => folders.All();

    /// <summary>Takes the job for this worker (see <see cref="JobFolders{TStatus}.Take"/>); null when another worker has it or it is finished.</summary>
    internal (BenchmarkStatus Status, RunLock Lock)? Take(string id) => folders.Take(id, s => s.State == JobState.Completed);

    /// <summary>Writes the job's status atomically.</summary>
    public void Write(BenchmarkStatus status) => folders.Write(status);

    /// <summary>The URL prefix of the job's files.</summary>
    public static string FilesUrl(string id) => $"/api/benchmarks/{id}/files/";

    /// <summary>The job's PNG <paramref name="name"/> (a chart or grid directly in its folder), or null when there is none.</summary>
    public string? Png(string id, string name) => folders.Png(id, name);

    /// <summary>The rows of the spec a request may name; none when the studio has no benchmark spec.</summary>
    public IReadOnlyList<BenchmarkMethodInfo> Methods() =>
        Home.BenchmarkSpec is null ? [] : [.. BenchmarkMethods.For(BenchmarkSpec.Load(Home.BenchmarkSpec)).Select(m => new BenchmarkMethodInfo(m.Name, m.Description))];

    /// <summary>A queued benchmark job from a request (not written yet).</summary>
    /// <exception cref="StudioRequestException">A field is wrong, or the studio cannot benchmark; names the field.</exception>
    public BenchmarkStatus Create(JsonNode? body)
    {
        var fields = new RequestFields(body, Fields);
        var names = fields.Texts("methods", 64);
        var status = new BenchmarkStatus
        {
            Id = JobIds.New(),
            State = JobState.Queued,
            CreatedAt = DateTimeOffset.UtcNow,
            Methods = [],
            Steps = (int)fields.Integer("steps", BenchmarkOptions.DefaultSteps, 1, MaxSteps),
            Seeds = (int)fields.Integer("seeds", BenchmarkOptions.DefaultSeeds, 1, MaxSeeds),
            SamplingSteps = (int)fields.Integer("sampling_steps", BenchmarkOptions.DefaultSamplingSteps, 1, 150),
        };
        return status with { Methods = [.. Options(status with { Methods = names ?? [] }, all: names is null).Methods.Select(m => m.Name)] };
    }

    /// <summary>The library's options for the job: the spec's rows it names, on the toy base model, into its folder.</summary>
    /// <exception cref="StudioRequestException">The studio has no toy model or spec, or a row is unknown; names <c>methods</c>.</exception>
    public BenchmarkOptions Options(BenchmarkStatus status) => Options(status, all: false);

    private BenchmarkOptions Options(BenchmarkStatus status, bool all)
    {
        ArgumentNullException.ThrowIfNull(status);
        var spec = Home.BenchmarkSpec ?? throw new StudioRequestException("methods", "this studio has no benchmark spec.");
        var model = Home.ToyModel ?? throw new StudioRequestException("methods", "the embedded toy base model is not available here.");
        try
        {
            return BenchmarkOptions.ForSpec(BenchmarkSpec.Load(spec), model, Folder(status.Id), all ? null : status.Methods) with
            {
                Steps = status.Steps,
                Seeds = status.Seeds,
                SamplingSteps = status.SamplingSteps,
            };
        }
        catch (ArgumentException e)
        {
            throw new StudioRequestException("methods", e.Message, e);
        }
    }
}
