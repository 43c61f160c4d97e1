using System.Text.Json;
using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SdTune.Studio.Compare;
using SdTune.Studio.Jobs;

namespace SdTune.Studio.Api;

/// <summary>The Compare page's endpoints: benchmark jobs (<c>/api/benchmarks</c>) and X/Y grid jobs of finished runs (<c>/api/grids</c>).</summary>
internal static class CompareApi
{
    /// <summary>Maps the endpoints under <paramref name="api"/>.</summary>
    internal static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/benchmarks/methods", (BenchmarkStore store) => Results.Json(store.Methods(), StudioJson.Options))
            .WithSummary("The rows of the studio's benchmark spec a benchmark may run (name, description).")
            .Produces<BenchmarkMethodInfo[]>();
        api.MapPost("/benchmarks", CreateBenchmark)
            .WithSummary("Queues a concept benchmark on the toy base model: methods (rows of the spec; default all), steps (per method), seeds (per row), sampling_steps (of the evaluation pictures).")
            .Accepts<BenchmarkRequest>("application/json")
            .Produces<BenchmarkStatus>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status400BadRequest);
        api.MapGet("/benchmarks", (BenchmarkStore store) => Results.Json(store.All(), StudioJson.Options))
            .WithSummary("Every benchmark job, newest first.")
            .Produces<BenchmarkStatus[]>();
        api.MapGet("/benchmarks/{id}", (string id, BenchmarkStore store) => store.Read(id) is { } status ? Results.Json(status, StudioJson.Options) : NotFound("benchmark", id))
            .WithSummary("A benchmark job: state, progress lines and, once completed, its table rows and the URLs of its chart and grids.")
            .Produces<BenchmarkStatus>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/benchmarks/{id}/files/{name}", (string id, string name, BenchmarkStore store) => Png(store.Png(id, name), "benchmark", id, name))
            .WithSummary("A benchmark's chart or grid (PNG).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapPost("/grids", CreateGrid)
            .WithSummary("Queues an X/Y grid of finished runs: runs (completed, with a LoRA; the rows), prompts (the columns), optional weights (LoRA weights as columns, one panel per prompt), include_base, negative_prompt, seed, steps, sampler, cfg, width, height.")
            .Accepts<GridRequest>("application/json")
            .Produces<GridStatus>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status400BadRequest);
        api.MapGet("/grids", (GridStore store) => Results.Json(store.All(), StudioJson.Options))
            .WithSummary("Every grid job, newest first.")
            .Produces<GridStatus[]>();
        api.MapGet("/grids/{id}", (string id, GridStore store) => store.Read(id) is { } status ? Results.Json(status, StudioJson.Options) : NotFound("grid", id))
            .WithSummary("A grid job: state, pictures done and, once completed, the URLs of the grid and its pictures.")
            .Produces<GridStatus>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/grids/{id}/files/{name}", (string id, string name, GridStore store) => Png(store.Png(id, name), "grid", id, name))
            .WithSummary("A grid job's grid or picture (PNG with A1111's parameters).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces<ApiError>(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> CreateBenchmark(HttpRequest request, BenchmarkStore store, IBackgroundJobClient jobs)
    {
        try
        {
            var status = store.Create(await ApiResults.ReadJson(request));
            // Written before the job exists, so a worker that takes it at once finds it.
            store.Write(status);
            jobs.Enqueue<BenchmarkJob>(job => job.Run(status.Id));
            return Results.Json(status, StudioJson.Options, statusCode: StatusCodes.Status202Accepted);
        }
        catch (StudioRequestException e)
        {
            return ApiResults.BadRequest(e);
        }
    }

    private static async Task<IResult> CreateGrid(HttpRequest request, GridStore store, IBackgroundJobClient jobs)
    {
        try
        {
            var status = store.Create(await ApiResults.ReadJson(request));
            store.Write(status);
            jobs.Enqueue<GridJob>(job => job.Run(status.Id, CancellationToken.None));
            return Results.Json(status, StudioJson.Options, statusCode: StatusCodes.Status202Accepted);
        }
        catch (StudioRequestException e)
        {
            return ApiResults.BadRequest(e);
        }
    }

    private static IResult Png(string? path, string kind, string id, string name) =>
        path is not null
            ? Results.File(path, "image/png")
            : Results.Json(new ApiError($"{kind} {id} has no image \"{name}\".", "name"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);

    private static IResult NotFound(string kind, string id) => ApiResults.NotFound($"no {kind} \"{id}\".", "id");
}

/// <summary>The body of <c>POST /api/benchmarks</c> (described for the OpenAPI document; read field by field so each mistake names its field).</summary>
/// <param name="Methods">Rows of the benchmark spec (see <c>GET /api/benchmarks/methods</c>); default all.</param>
/// <param name="Steps">Training steps per method (1 to 100000; default 300).</param>
/// <param name="Seeds">Seeds per row (1 to 100; default 3).</param>
/// <param name="SamplingSteps">Sampling steps of the evaluation pictures (1 to 150; default 20).</param>
public sealed record BenchmarkRequest(string[]? Methods, int? Steps, int? Seeds, int? SamplingSteps);

/// <summary>The body of <c>POST /api/grids</c> (described for the OpenAPI document; read field by field so each mistake names its field).</summary>
/// <param name="Runs">Completed runs with a .safetensors output: the rows.</param>
/// <param name="Prompts">The prompts: the columns (or the panels with <paramref name="Weights"/>).</param>
/// <param name="Weights">LoRA weights: the columns when given.</param>
/// <param name="IncludeBase">Add a first row with the base model alone.</param>
/// <param name="NegativePrompt">The negative prompt.</param>
/// <param name="Seed">The seed of every picture; -1 random (default).</param>
/// <param name="Steps">Sampling steps (default 20).</param>
/// <param name="Sampler">A sampler of <c>GET /api/samplers</c> (default Euler a).</param>
/// <param name="Cfg">CFG scale (default 7).</param>
/// <param name="Width">Width; default the model's own size.</param>
/// <param name="Height">Height; default the model's own size.</param>
public sealed record GridRequest(string[] Runs, string[] Prompts, double[]? Weights, bool? IncludeBase, string? NegativePrompt, long? Seed, int? Steps, string? Sampler, double? Cfg, int? Width, int? Height);
