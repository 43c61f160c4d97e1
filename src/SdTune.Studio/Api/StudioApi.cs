using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SdTune.Imaging;
using SdTune.Imaging.Preprocessors;
using SdTune.Schedulers;
using SdTune.Studio.Generation;
using SdTune.Studio.Jobs;
using SdTune.Studio.Runs;
using SdTune.Training;

namespace SdTune.Studio.Api;

/// <summary>The REST API under <c>/api</c> (JSON, snake_case), which the studio's pages use too.</summary>
public static class StudioApi
{
    /// <summary>How often the event stream looks at a run's progress.</summary>
    private static readonly TimeSpan EventPollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>The most points <c>GET /api/runs/{id}/loss</c> answers.</summary>
    private const int MaxLossPoints = 1000;

    /// <summary>Maps the endpoints.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var api = app.MapGroup("/api");
        api.MapGet("/methods", () => Results.Json(MethodCatalog.Describe(), StudioJson.Options))
            .WithSummary("Every training method with its keys (name, type, default, range, help), and the trainer's common keys.")
            .Produces<MethodCatalogInfo>();
        api.MapGet("/models", (StudioHome home) => Results.Json(home.ModelNames(), StudioJson.Options))
            .WithSummary("The base models a run may name: toy (the embedded toy model) and the entries of models/.")
            .Produces<string[]>();
        api.MapGet("/datasets", (StudioHome home) => Results.Json(home.DatasetNames(), StudioJson.Options))
            .WithSummary("The dataset folders under datasets/.")
            .Produces<string[]>();
        DatasetApi.Map(api);
        api.MapPost("/runs", CreateRun)
            .WithSummary("Queues a training run: method, keys (training key → value, as in the TOML), dataset (a folder under datasets/), base_model (default toy).")
            .Accepts<RunRequest>("application/json")
            .Produces<RunStatus>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status400BadRequest);
        api.MapGet("/runs", (RunStore store) => Results.Json(store.All(), StudioJson.Options))
            .WithSummary("Every run, newest first.")
            .Produces<RunStatus[]>();
        api.MapGet("/runs/{id}", (string id, RunStore store) => store.Read(id) is { } status ? Results.Json(status, StudioJson.Options) : NotFound(id))
            .WithSummary("A run: state, step, total steps, loss, it/s, ETA, output files.")
            .Produces<RunStatus>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/runs/{id}/events", RunEvents)
            .WithSummary("Server-Sent Events: 'progress' events while the run is queued or running, then one event named after its final state (completed, stopped or failed).")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapPost("/runs/{id}/stop", StopRun)
            .WithSummary("Stops a run after its current step (saving its state); a queued run is taken off the queue.")
            .Produces<RunStatus>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/runs/{id}/samples", RunSamples)
            .WithSummary("The run's sample images so far (output/sample/*.png, written every sample_every_n_steps or _epochs with sample_prompts), oldest first, with their URLs.")
            .Produces<SampleImageInfo[]>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/runs/{id}/loss", (string id, RunStore store) => store.Read(id) is null ? NotFound(id) : Results.Json(LossCurve.Read(store.Folder(id), MaxLossPoints), StudioJson.Options))
            .WithSummary("The run's loss curve in step order: every step's loss, or, past 1000 steps, 1000 points each the mean of consecutive steps.")
            .Produces<LossPoint[]>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/runs/{id}/config", RunConfig)
            .WithSummary("The run's configuration as TOML: the trainer's resolved configuration (every key, defaults filled in) once training started, else the configuration it was queued with.")
            .Produces<string>(StatusCodes.Status200OK, "application/toml")
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/runs/{id}/files/{*path}", RunFile)
            .WithSummary("One of the run's output files (as GET /api/runs/{id} lists them under outputs), for download.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/runs/{id}/samples/{name}", RunSample)
            .WithSummary("One sample image of the run (PNG).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        GenerationApi.Map(api);
        api.MapPost("/config/toml", ConfigToml)
            .WithSummary("A run request (method, keys, optional dataset and base_model) → the TOML sdtune train --config reads, checked as POST /api/runs checks it.")
            .Accepts<RunRequest>("application/json")
            .Produces<string>(StatusCodes.Status200OK, "application/toml")
            .Produces<ApiError>(StatusCodes.Status400BadRequest);
        api.MapPost("/runs/{id}/resume", ResumeRun)
            .WithSummary("Queues a stopped, failed or completed run again; it continues from its latest saved state.")
            .Produces<RunStatus>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status404NotFound)
            .Produces<ApiError>(StatusCodes.Status409Conflict);
        CompareApi.Map(api);
    }

    private static async Task<IResult> CreateRun(HttpRequest request, RunPlanner planner, RunStore store, IBackgroundJobClient jobs)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return BadRequest(new StudioRequestException("body", $"not valid JSON: {e.Message}"));
        }

        RunStatus status;
        try
        {
            status = planner.Create(body);
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }

        status = Enqueue(store, jobs, status);
        return Results.Json(status, StudioJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> ConfigToml(HttpRequest request, RunPlanner planner)
    {
        try
        {
            return Results.Text(planner.Toml(await ApiResults.ReadJson(request)), "application/toml; charset=utf-8");
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }
    }

    private static IResult RunSamples(string id, RunStore store)
    {
        if (store.Read(id) is null)
        {
            return NotFound(id);
        }

        var folder = Path.Combine(store.OutputPath(id), "sample");
        var samples = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.png").Select(f => new FileInfo(f)).OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => new SampleImageInfo(f.Name, $"/api/runs/{id}/samples/{Uri.EscapeDataString(f.Name)}")).ToArray()
            : [];
        return Results.Json(samples, StudioJson.Options);
    }

    private static IResult RunSample(string id, string name, RunStore store)
    {
        var path = store.Read(id) is null || !StudioGenerator.IsImageName(name) ? null : Path.Combine(store.OutputPath(id), "sample", name);
        return path is not null && File.Exists(path)
            ? Results.File(path, "image/png")
            : Results.Json(new ApiError($"run {id} has no sample \"{name}\".", "name"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
    }

    private static IResult RunConfig(string id, RunStore store)
    {
        if (store.Read(id) is null)
        {
            return NotFound(id);
        }

        var resolved = Path.Combine(store.OutputPath(id), ResolvedTrainingConfig.FileName);
        return Results.Text(File.ReadAllText(File.Exists(resolved) ? resolved : store.ConfigPath(id)), "application/toml; charset=utf-8");
    }

    private static IResult RunFile(string id, string path, RunStore store)
    {
        // Only the files the run lists as its outputs are served, so no path of the request reaches the disk.
        var output = store.Read(id)?.Outputs.FirstOrDefault(o => o == path);
        var file = output is null ? null : Path.Combine(store.Folder(id), output);
        return file is not null && File.Exists(file)
            ? Results.File(file, "application/octet-stream", Path.GetFileName(file))
            : Results.Json(new ApiError($"run {id} has no output \"{path}\".", "path"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
    }

    private static IResult StopRun(string id, RunStore store)
    {
        if (store.Read(id) is not { } status)
        {
            return NotFound(id);
        }

        if (status.IsFinal)
        {
            return Results.Json(status, StudioJson.Options, statusCode: StatusCodes.Status202Accepted);
        }

        // The job looks for this file (also on another machine sharing the folder): a running job stops after its
        // current step and saves its state; a queued one ends as soon as a worker takes it.
        File.WriteAllText(store.StopPath(id), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        if (status.State == RunState.Queued)
        {
            status = status with { State = RunState.Stopped };
            store.Write(status);
        }

        return Results.Json(status, StudioJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult ResumeRun(string id, RunStore store, IBackgroundJobClient jobs)
    {
        if (store.Read(id) is not { } status)
        {
            return NotFound(id);
        }

        if (!status.IsFinal)
        {
            return Results.Json(new ApiError($"run {id} is {status.State.ToString().ToLowerInvariant()}; stop it first.", "id"), StudioJson.Options, statusCode: StatusCodes.Status409Conflict);
        }

        File.Delete(store.StopPath(id));
        status = Enqueue(store, jobs, status with { State = RunState.Queued, Error = null, ErrorField = null });
        return Results.Json(status, StudioJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private static RunStatus Enqueue(RunStore store, IBackgroundJobClient jobs, RunStatus status)
    {
        // The status is queued before the job exists, so a worker that picks it up at once finds the run ready.
        store.Write(status);
        jobs.Enqueue<TrainingJob>(job => job.Run(status.Id, CancellationToken.None));
        return status;
    }

    private static async Task RunEvents(string id, HttpContext context, RunStore store)
    {
        var cancellationToken = context.RequestAborted;
        if (store.Read(id) is null)
        {
            await NotFound(id).ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        string? last = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var status = store.Read(id);
                if (status is null)
                {
                    return;
                }

                var json = JsonSerializer.Serialize(status with { UpdatedAt = default }, StudioJson.Options);
                if (json != last)
                {
                    var name = status.IsFinal ? status.State.ToString().ToLowerInvariant() : "progress";
                    await response.WriteAsync($"event: {name}\ndata: {json}\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    last = json;
                }

                if (status.IsFinal)
                {
                    return;
                }

                await Task.Delay(EventPollInterval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static IResult BadRequest(StudioRequestException e) => ApiResults.BadRequest(e);

    private static IResult NotFound(string id) => ApiResults.NotFound($"no run \"{id}\".", "id");
}

/// <summary>The body of <c>POST /api/runs</c> (described for the OpenAPI document; read field by field so each mistake names its field).</summary>
/// <param name="Method">The training method (see <c>GET /api/methods</c>).</param>
/// <param name="Keys">Training keys and their values, under the TOML names.</param>
/// <param name="Dataset">The dataset folder, relative to <c>datasets/</c>.</param>
/// <param name="BaseModel">The base model: <c>toy</c> (default) or a path under <c>models/</c>.</param>
/// <param name="SamplePromptLines">Sample prompts (the <c>sample_prompts</c> file's syntax), written to the run folder's <c>sample_prompts.txt</c> and used as <c>sample_prompts</c>.</param>
public sealed record RunRequest(string Method, Dictionary<string, JsonElement>? Keys, string Dataset, string? BaseModel, string? SamplePromptLines);

/// <summary>A sample image of a run.</summary>
/// <param name="Name">Its file name in the run's <c>output/sample/</c>.</param>
/// <param name="Url">Where it is served.</param>
public sealed record SampleImageInfo(string Name, string Url);
