using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SdTune.Imaging;
using SdTune.Imaging.Preprocessors;
using SdTune.Schedulers;
using SdTune.Studio.Generation;
using SdTune.Studio.Jobs;

namespace SdTune.Studio.Api;

/// <summary>
/// Generation's endpoints: <c>POST /api/generate</c> (synchronous) and <c>/api/generations</c> (the same request as a
/// queued job), the saved images, PNG info, and what a request may name (samplers and the library folders).
/// </summary>
internal static class GenerationApi
{
    /// <summary>The largest PNG <c>POST /api/pnginfo</c> reads.</summary>
    private const int MaxPngBytes = 64 << 20;

    /// <summary>Maps the endpoints on <paramref name="api"/> (the <c>/api</c> group).</summary>
    internal static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/generate", Generate)
            .WithSummary("Generates images synchronously (one request at a time) with the library's pipeline, as sdtune generate does; saves them with their parameters under outputs/ and answers their names, URLs and infotext.")
            .Accepts<GenerateRequestBody>("application/json")
            .Produces<GenerateResponse>()
            .Produces<ApiError>(StatusCodes.Status400BadRequest);
        api.MapGet("/images/{name}", Image)
            .WithSummary("A generated image (PNG with A1111's parameters) from outputs/.")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapPost("/pnginfo", PngInfo)
            .WithSummary("A PNG (the request body, or the first file of a multipart form) → its A1111 parameters: the text and its fields.")
            .Produces<PngInfoResponse>()
            .Produces<ApiError>(StatusCodes.Status400BadRequest);
        api.MapGet("/samplers", () => Results.Json(SamplerRegistry.Names, StudioJson.Options))
            .WithSummary("The samplers POST /api/generate accepts (A1111's names).")
            .Produces<string[]>();
        api.MapGet("/loras", (StudioLibrary library) => Results.Json(library.Loras(), StudioJson.Options))
            .WithSummary("The LoRAs POST /api/generate accepts: files under loras/ and run:ID for completed runs with a .safetensors output.")
            .Produces<LibraryEntry[]>();
        api.MapGet("/embeddings", (StudioLibrary library) => Results.Json(library.Embeddings(), StudioJson.Options))
            .WithSummary("The textual-inversion embeddings under embeddings/, by the name a prompt writes.")
            .Produces<LibraryEntry[]>();
        api.MapGet("/hypernetworks", (StudioLibrary library) => Results.Json(library.Hypernetworks(), StudioJson.Options))
            .WithSummary("The hypernetworks under hypernetworks/.")
            .Produces<LibraryEntry[]>();
        api.MapGet("/controls", (StudioLibrary library) => Results.Json(library.Controls(), StudioJson.Options))
            .WithSummary("The ControlNets and T2I-Adapters under controlnet/ (single files and diffusers folders).")
            .Produces<LibraryEntry[]>();
        api.MapGet("/preprocessors", () => Results.Json(PreprocessorRegistry.Names, StudioJson.Options))
            .WithSummary("The preprocessors a control may run on its image.")
            .Produces<string[]>();
        api.MapPost("/generations", QueueGeneration)
            .WithSummary("Queues a generation: the body of POST /api/generate, checked the same way (400 naming the field); a worker generates it. Answers 202 with the job.")
            .Accepts<GenerateRequestBody>("application/json")
            .Produces<GenerationStatus>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status400BadRequest);
        api.MapGet("/generations", (GenerationStore store) => Results.Json(store.All(), StudioJson.Options))
            .WithSummary("Every queued generation, newest first.")
            .Produces<GenerationStatus[]>();
        api.MapGet("/generations/{id}", (string id, GenerationStore store) => store.Read(id) is { } status
                ? Results.Json(status, StudioJson.Options)
                : ApiResults.NotFound($"no generation \"{id}\".", "id"))
            .WithSummary("A queued generation: state and, once completed, its images (as POST /api/generate answers them).")
            .Produces<GenerationStatus>()
            .Produces<ApiError>(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Generate(HttpRequest request, StudioGenerator generator)
    {
        try
        {
            var body = await ApiResults.ReadJson(request);
            return Results.Json(await generator.GenerateAsync(body, request.HttpContext.RequestAborted), StudioJson.Options);
        }
        catch (StudioRequestException e)
        {
            return ApiResults.BadRequest(e);
        }
    }

    private static async Task<IResult> QueueGeneration(HttpRequest request, StudioGenerator generator, GenerationStore store, IBackgroundJobClient jobs)
    {
        try
        {
            var body = await ApiResults.ReadJson(request);
            generator.Check(body);

            // Written before the job exists, so a worker that takes it at once finds it.
            var status = store.Create((System.Text.Json.Nodes.JsonObject)body!);
            jobs.Enqueue<GenerationJob>(job => job.Run(status.Id, CancellationToken.None));
            return Results.Json(status, StudioJson.Options, statusCode: StatusCodes.Status202Accepted);
        }
        catch (StudioRequestException e)
        {
            return ApiResults.BadRequest(e);
        }
    }

    private static IResult Image(string name, StudioHome home) =>
        StudioGenerator.IsImageName(name) && File.Exists(Path.Combine(home.Outputs, name))
            ? Results.File(Path.Combine(home.Outputs, name), "image/png")
            : ApiResults.NotFound($"no image \"{name}\".", "name");

    private static async Task<IResult> PngInfo(HttpRequest request)
    {
        byte[] png;
        string name;
        var cancellationToken = request.HttpContext.RequestAborted;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            if (form.Files.FirstOrDefault() is not { } file)
            {
                return ApiResults.BadRequest(new StudioRequestException("file", "the form has no file."));
            }

            if (file.Length > MaxPngBytes)
            {
                return ApiResults.BadRequest(new StudioRequestException("file", $"is larger than {MaxPngBytes >> 20} MiB."));
            }

            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer, cancellationToken);
            png = buffer.ToArray();
            name = file.FileName;
        }
        else
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            if (buffer.Length > MaxPngBytes)
            {
                return ApiResults.BadRequest(new StudioRequestException("file", $"is larger than {MaxPngBytes >> 20} MiB."));
            }

            png = buffer.ToArray();
            name = "upload";
        }

        try
        {
            var text = PngText.Find(PngText.Read(png, name), PngText.ParametersKeyword);
            return Results.Json(new PngInfoResponse(text, text is null ? [] : [.. GenerationInfotext.ParseFields(text).Select(f => new InfotextField(f.Key, f.Value))]), StudioJson.Options);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException)
        {
            return ApiResults.BadRequest(new StudioRequestException("file", e.Message, e));
        }
    }
}

/// <summary>The answer of <c>POST /api/pnginfo</c>.</summary>
/// <param name="Parameters">The PNG's <c>parameters</c> text (A1111's infotext); null when it has none.</param>
/// <param name="Fields">Its fields, in order: Prompt, Negative prompt, then Steps, Sampler, ... as the infotext names them.</param>
public sealed record PngInfoResponse(string? Parameters, IReadOnlyList<InfotextField> Fields);

/// <summary>One infotext field.</summary>
/// <param name="Key">Its name.</param>
/// <param name="Value">Its value.</param>
public sealed record InfotextField(string Key, string Value);
