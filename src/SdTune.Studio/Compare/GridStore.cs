using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.Checkpoints;
using SdTune.Pipelines;
using SdTune.Pipelines.Grids;
using SdTune.Schedulers;
using SdTune.Studio.Generation;
using SdTune.Studio.Jobs;
using SdTune.Studio.Runs;

namespace SdTune.Studio.Compare;

/// <summary>
/// The grid jobs' folders under <c>grids/</c>: <c>status.json</c> (the <see cref="GridStatus"/>, replaced atomically on
/// every write), <c>grid.png</c> (the X/Y grid with A1111's parameters of its first picture) and <c>cell-P-R-C.png</c>
/// (each picture with its own). Turns a request into a job and a job into the library's <see cref="GridPlan"/>.
/// </summary>
public sealed class GridStore(RunStore runs, StudioGenerator generator, StudioLibrary library)
{
    /// <summary>The status file's name.</summary>
    public const string StatusFile = "status.json";

    /// <summary>The grid's file name.</summary>
    public const string GridFile = "grid.png";

    /// <summary>The base model row's label.</summary>
    public const string BaseRowLabel = "base model";

    /// <summary>The request's fields.</summary>
    public static readonly IReadOnlyList<string> Fields = ["runs", "prompts", "weights", "include_base", "negative_prompt", "seed", "steps", "sampler", "cfg", "width", "height"];

    /// <summary>The most values an axis may have.</summary>
    public const int MaxValues = 16;

    private readonly JobFolders<GridStatus> folders = new(runs.Home.Grids, StatusFile, g => (g.Id, g.CreatedAt), g => g with { UpdatedAt = DateTimeOffset.UtcNow });

    /// <summary>The job's folder.</summary>
    public string Folder(string id) => folders.Folder(id);

    /// <summary>The job's status, or null when there is no such job.</summary>
    public GridStatus? Read(string id) => folders.Read(id);

    /// <summary>Every grid job, newest first.</summary>
    public IReadOnlyList<GridStatus> All() => folders.All();

    /// <summary>Takes the job for this worker (see <see cref="JobFolders{TStatus}.Take"/>); null when another worker has it or it is finished.</summary>
    internal (GridStatus Status, RunLock Lock)? Take(string id) => folders.Take(id, s => s.State == JobState.Completed);

    /// <summary>Writes the job's status atomically.</summary>
    public void Write(GridStatus status) => folders.Write(status);

    /// <summary>The URL prefix of the job's images.</summary>
    public static string FilesUrl(string id) => $"/api/grids/{id}/files/";

    /// <summary>The file name of the picture in <paramref name="cell"/>.</summary>
    public static string CellFile(GridCell cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return string.Create(CultureInfo.InvariantCulture, $"cell-{cell.Panel}-{cell.Row}-{cell.Column}.png");
    }

    /// <summary>The job's PNG <paramref name="name"/>, or null when there is none.</summary>
    public string? Png(string id, string name) => folders.Png(id, name);

    /// <summary>A queued grid job from a request (not written yet); a random seed (-1, the default) is drawn now.</summary>
    /// <exception cref="StudioRequestException">A field is wrong; names it (<c>runs</c> for a run that is not completed or has no LoRA).</exception>
    public GridStatus Create(JsonNode? body)
    {
        var fields = new RequestFields(body, Fields);
        var ids = fields.Texts("runs", MaxValues) ?? throw new StudioRequestException("runs", "is required: the completed runs whose LoRAs make the rows.");
        foreach (var id in ids)
        {
            RunLoraOf(id);
        }

        var sampler = fields.Text("sampler") ?? "Euler a";
        if (!SamplerRegistry.IsKnown(sampler))
        {
            throw new StudioRequestException("sampler", $"unknown sampler \"{sampler}\"; expected one of {string.Join(", ", SamplerRegistry.Names)}.");
        }

        var seed = fields.Integer("seed", -1, -1, uint.MaxValue);
        var status = new GridStatus
        {
            Id = JobIds.New(),
            State = JobState.Queued,
            CreatedAt = DateTimeOffset.UtcNow,
            Runs = ids,
            Prompts = fields.Texts("prompts", MaxValues) ?? throw new StudioRequestException("prompts", "is required: the prompts of the columns."),
            Weights = fields.Numbers("weights", MaxValues, -10, 10) ?? [],
            IncludeBase = fields.Flag("include_base", false),
            NegativePrompt = fields.Text("negative_prompt") ?? "",
            Seed = seed >= 0 ? seed : Random.Shared.NextInt64(0, uint.MaxValue),
            Steps = (int)fields.Integer("steps", 20, 1, 150),
            Sampler = SamplerRegistry.Resolve(sampler),
            Cfg = fields.Number("cfg", 7, 1, 30),
            Width = Side(fields, "width"),
            Height = Side(fields, "height"),
        };
        var panels = status.Weights.Count > 0 ? status.Prompts.Count : 1;
        var cells = (status.Runs.Count + (status.IncludeBase ? 1 : 0)) * (status.Weights.Count > 0 ? status.Weights.Count : status.Prompts.Count) * panels;
        return status with { Cells = cells };
    }

    /// <summary>
    /// The job's grid as the library plans one: a row per run (its LoRA at weight 1, or at each column's weight), after
    /// the base model's row when asked for; a column per prompt, or per weight with a panel per prompt. Each row
    /// generates with its run's base model (the base row with the first run's).
    /// </summary>
    /// <exception cref="StudioRequestException">A run is gone, no longer completed or has lost its LoRA; names <c>runs</c>.</exception>
    public (GridPlan Plan, IReadOnlyDictionary<string, string> ModelNames) Plan(GridStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var models = new Dictionary<string, string>(StringComparer.Ordinal);
        string Model(RunStatus run)
        {
            var path = runs.Home.Model(run.BaseModel, "runs");
            models[path] = run.BaseModel;
            return path;
        }

        var rows = status.Runs.Select(id => RunLoraOf(id)).Select(r => (Label: $"{r.Run.Method} {r.Run.Id}", Lora: (string?)r.Lora, Model: Model(r.Run))).ToList();
        if (status.IncludeBase)
        {
            rows.Insert(0, (BaseRowLabel, null, rows[0].Model));
        }

        var byWeight = status.Weights.Count > 0;
        var columns = byWeight ? status.Weights.Count : status.Prompts.Count;
        var panels = byWeight ? status.Prompts.Count : 1;
        var request = new GenerationRequest
        {
            Prompt = status.Prompts[0],
            NegativePrompt = status.NegativePrompt,
            Sampler = status.Sampler,
            Steps = status.Steps,
            CfgScale = status.Cfg,
            Seed = status.Seed,
            Width = status.Width,
            Height = status.Height,
        };
        var cells = new List<GridCell>();
        for (var panel = 0; panel < panels; panel++)
        {
            for (var row = 0; row < rows.Count; row++)
            {
                for (var column = 0; column < columns; column++)
                {
                    var weight = byWeight ? status.Weights[column] : 1.0;
                    var prompt = status.Prompts[byWeight ? panel : column];
                    var loras = rows[row].Lora is { } lora ? new[] { (lora, weight) } : [];
                    cells.Add(new GridCell(column, row, panel, request with { Prompt = prompt, Loras = loras }, rows[row].Model));
                }
            }
        }

        var plan = new GridPlan
        {
            Cells = cells,
            Columns = columns,
            Rows = rows.Count,
            ColumnLabels = byWeight ? [.. status.Weights.Select(w => "LoRA weight: " + w.ToString("R", CultureInfo.InvariantCulture))] : status.Prompts,
            RowLabels = [.. rows.Select(r => r.Label)],
            PanelLabels = byWeight ? status.Prompts : [],
        };
        return (plan, models);
    }

    /// <summary>Opens the pipeline of a checkpoint of the plan, as the studio's generator sets its pipelines up.</summary>
    public GridModel Open(string checkpoint, IReadOnlyDictionary<string, string> modelNames)
    {
        ArgumentNullException.ThrowIfNull(modelNames);
        var model = StableDiffusionModels.Load(checkpoint);
        try
        {
            return new GridModel(new StableDiffusionPipeline(model, generator.PipelineOptions(modelNames[checkpoint], checkpoint)), model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private (RunStatus Run, string Lora) RunLoraOf(string id) => library.CompletedRunLora(id, "runs", "a grid needs completed runs with a LoRA");

    private static int? Side(RequestFields fields, string field)
    {
        var side = fields.Integer(field, 0, 8, 2048);
        return side == 0 ? null : side % 8 == 0 ? (int)side : throw new StudioRequestException(field, $"must be a multiple of 8 from 8 to 2048, got {side}.");
    }
}
