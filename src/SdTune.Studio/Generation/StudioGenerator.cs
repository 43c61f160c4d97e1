using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SdTune.Checkpoints;
using SdTune.Imaging;
using SdTune.Pipelines;

namespace SdTune.Studio.Generation;

/// <summary>
/// <c>POST /api/generate</c>: reads the request (<see cref="GenerateRequestReader"/>), runs the library's
/// <see cref="StableDiffusionPipeline"/> as <c>sdtune generate</c> does (the library folders as its embeddings, LoRA and
/// hypernetwork folders) and saves the PNGs with A1111's parameters under <c>outputs/</c>, with a grid of the batch when
/// asked. Generation is synchronous and one request at a time (the studio's worker trains meanwhile).
/// </summary>
public sealed partial class StudioGenerator(StudioLibrary library)
{
    private readonly SemaphoreSlim oneAtATime = new(1, 1);
    private readonly GenerateRequestReader reader = new(library);

    /// <summary>Checks the request, generates, saves the images and describes them.</summary>
    /// <exception cref="StudioRequestException">A field is missing, of the wrong type, out of range, or names an unknown sampler, model or file.</exception>
    public async Task<GenerateResponse> GenerateAsync(JsonNode? body, CancellationToken cancellationToken)
    {
        using var generation = reader.Read(body);
        await oneAtATime.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() => Generate(generation, cancellationToken), cancellationToken);
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    /// <summary>As <see cref="GenerateAsync"/>, on the calling thread (a queued generation's worker).</summary>
    /// <exception cref="StudioRequestException">The request is wrong; names the field.</exception>
    public GenerateResponse Generate(JsonNode? body, CancellationToken cancellationToken)
    {
        using var generation = reader.Read(body);
        oneAtATime.Wait(cancellationToken);
        try
        {
            return Generate(generation, cancellationToken);
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    /// <summary>Checks a request as <see cref="Generate(JsonNode?, CancellationToken)"/> will read it, without generating.</summary>
    /// <exception cref="StudioRequestException">The request is wrong; names the field.</exception>
    public void Check(JsonNode? body) => reader.Read(body).Dispose();

    /// <summary>The pipeline options the studio generates with (the same for a model the library loads directly, so the images match).</summary>
    public PipelineOptions PipelineOptions(string modelName, string modelPath) => new()
    {
        LoraFolder = library.Home.Loras,
        EmbeddingsFolder = library.Home.Embeddings,
        HypernetworkFolder = library.Home.Hypernetworks,
        ModelName = modelName == StudioHome.ToyModelName ? modelName : Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(modelPath)),
        ModelHash = File.Exists(modelPath) ? ModelHashes.ShortHash(modelPath) : null,
    };

    private GenerateResponse Generate(StudioGeneration generation, CancellationToken cancellationToken)
    {
        using var model = StableDiffusionModels.Load(generation.ModelPath);
        using var pipeline = new StableDiffusionPipeline(model, PipelineOptions(generation.ModelName, generation.ModelPath));
        using var result = pipeline.Generate(generation.Request, cancellationToken: cancellationToken);
        var outputs = library.Home.Outputs;
        Directory.CreateDirectory(outputs);
        var stem = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var images = new List<GeneratedImageInfo>();
        for (var i = 0; i < result.Images.Count; i++)
        {
            var image = result.Images[i];
            var name = string.Create(CultureInfo.InvariantCulture, $"{stem}-{i:D2}-{image.Seed}.png");
            images.Add(Save(outputs, name, image.Image, image.Infotext.ToText(), image.Seed));
        }

        GeneratedImageInfo? grid = null;
        if (generation.Grid && result.Images.Count > 1)
        {
            // As A1111 saves a batch's grid: the images in a near-square grid, with the first image's parameters.
            using var bitmap = ImageGrid.Create([.. result.Images.Select(i => i.Image)]);
            grid = Save(outputs, $"{stem}-grid.png", bitmap, images[0].Infotext, result.Images[0].Seed);
        }

        return new GenerateResponse(images, grid, result.Warnings, result.Total.TotalSeconds);
    }

    private static GeneratedImageInfo Save(string folder, string name, SkiaSharp.SKBitmap bitmap, string infotext, long seed)
    {
        PngWriter.Save(Path.Combine(folder, name), bitmap, new Dictionary<string, string> { [PngText.ParametersKeyword] = infotext });
        return new GeneratedImageInfo(name, "/api/images/" + name, seed, bitmap.Width, bitmap.Height, infotext);
    }

    /// <summary>True when <paramref name="name"/> can be an image the studio saved (a plain file name).</summary>
    public static bool IsImageName(string name) => ImageName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\\.png$")]
    private static partial Regex ImageName();
}

/// <summary>One saved image.</summary>
/// <param name="Name">Its file name under <c>outputs/</c>.</param>
/// <param name="Url">Where <c>GET /api/images/{name}</c> serves it.</param>
/// <param name="Seed">Its seed.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Infotext">A1111's parameters, as written into the PNG.</param>
public sealed record GeneratedImageInfo(string Name, string Url, long Seed, int Width, int Height, string Infotext);

/// <summary>The answer of <c>POST /api/generate</c>.</summary>
/// <param name="Images">The images, in batch order.</param>
/// <param name="Grid">The grid of the batch, when the request asked for one and the batch has several images.</param>
/// <param name="Warnings">What the pipeline warned about (unknown embeddings, LoRA keys that matched nothing...).</param>
/// <param name="Seconds">Wall time of the generation.</param>
public sealed record GenerateResponse(IReadOnlyList<GeneratedImageInfo> Images, GeneratedImageInfo? Grid, IReadOnlyList<string> Warnings, double Seconds);

/// <summary>The body of <c>POST /api/generate</c> (described for the OpenAPI document; read field by field).</summary>
/// <param name="Prompt">The prompt, A1111 syntax (embeddings of <c>embeddings/</c> by name, &lt;lora:…&gt; and &lt;hypernet:…&gt; tags).</param>
/// <param name="NegativePrompt">The negative prompt.</param>
/// <param name="Model">toy (default) or a file or folder under <c>models/</c>.</param>
/// <param name="Loras">LoRAs to apply: names under <c>loras/</c> or <c>run:ID</c>, as strings or {name, weight}.</param>
/// <param name="Hypernetworks">Hypernetworks to apply: names under <c>hypernetworks/</c>, as strings or {name, strength}.</param>
/// <param name="Sampler">A sampler of <c>GET /api/samplers</c> (default Euler a).</param>
/// <param name="Steps">Sampling steps (default 20).</param>
/// <param name="Cfg">CFG scale (default 7).</param>
/// <param name="Seed">Seed of the first image; -1 random (default).</param>
/// <param name="Width">Width; default the model's own size (img2img: the init image's).</param>
/// <param name="Height">Height; default the model's own size.</param>
/// <param name="BatchSize">Images (default 1).</param>
/// <param name="InitImage">img2img: the init image, base64 or a data: URL.</param>
/// <param name="Strength">img2img denoising strength (default 0.75).</param>
/// <param name="Controls">ControlNets and T2I-Adapters: {type (controlnet or t2i_adapter), model (under <c>controlnet/</c>), image (base64), scale, start, end, resize, preprocessor, guess_mode}.</param>
/// <param name="Grid">Also save the batch as one grid image (default false).</param>
public sealed record GenerateRequestBody(
    string Prompt, string? NegativePrompt, string? Model, JsonElement? Loras, JsonElement? Hypernetworks, string? Sampler, int? Steps, double? Cfg, long? Seed,
    int? Width, int? Height, int? BatchSize, string? InitImage, double? Strength, JsonElement? Controls, bool? Grid);
