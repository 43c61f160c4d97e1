using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SdTune.Checkpoints;
using SdTune.Imaging;
using SdTune.Pipelines;
using SdTune.Schedulers;
using SdTune.Studio.Runs;

namespace SdTune.Studio.Generation;

/// <summary>
/// <c>POST /api/generate</c>: reads a request field by field (each mistake names its field), runs the library's
/// <see cref="StableDiffusionPipeline"/> as <c>sdtune generate</c> does and saves the PNGs with A1111's parameters under
/// <c>outputs/</c>. Generation is synchronous and one request at a time (the studio's worker trains meanwhile).
/// </summary>
public sealed partial class StudioGenerator(RunStore store)
{
    /// <summary>The request's fields.</summary>
    public static readonly IReadOnlyList<string> Fields = ["prompt", "negative_prompt", "model", "loras", "sampler", "steps", "cfg", "seed", "width", "height", "batch_size"];

    /// <summary>The prefix that names a finished run's output as a LoRA.</summary>
    public const string RunPrefix = "run:";

    /// <summary>The LoRA file extensions listed from <c>loras/</c>.</summary>
    private static readonly string[] LoraExtensions = [".safetensors", ".pt", ".ckpt"];

    /// <summary>The CLI's option names in the library's messages, and the request fields they are.</summary>
    private static readonly (string Option, string Field)[] OptionFields =
        [("--width", "width"), ("--height", "height"), ("--steps", "steps"), ("--batch", "batch_size"), ("--cfg", "cfg"), ("--seed", "seed"), ("--lora", "loras")];

    private readonly SemaphoreSlim oneAtATime = new(1, 1);

    /// <summary>The LoRAs a request may name: files in <c>loras/</c> and <c>run:ID</c> for each completed run with a .safetensors output.</summary>
    public IReadOnlyList<LoraInfo> Loras()
    {
        var home = store.Home;
        var files = Directory.EnumerateFiles(home.Loras, "*", SearchOption.AllDirectories)
            .Where(f => LoraExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Select(f => Path.GetRelativePath(home.Loras, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .Select(n => new LoraInfo(n, "file", null));
        var runs = store.All()
            .Where(r => r.State == RunState.Completed && RunLora(r) is not null)
            .Select(r => new LoraInfo(RunPrefix + r.Id, "run", r.Method));
        return [.. files, .. runs];
    }

    /// <summary>Checks the request, generates, saves the images and describes them.</summary>
    /// <exception cref="StudioRequestException">A field is missing, of the wrong type, out of range, or names an unknown sampler, model or LoRA.</exception>
    public async Task<GenerateResponse> GenerateAsync(JsonNode? body, CancellationToken cancellationToken)
    {
        var (request, modelName, modelPath) = Read(body);
        await oneAtATime.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() => Generate(request, modelName, modelPath, cancellationToken), cancellationToken);
        }
        finally
        {
            oneAtATime.Release();
        }
    }

    /// <summary>The pipeline options the studio generates with (the same for a model the library loads directly, so the images match).</summary>
    public PipelineOptions PipelineOptions(string modelName, string modelPath) => new()
    {
        LoraFolder = store.Home.Loras,
        ModelName = modelName == StudioHome.ToyModelName ? modelName : Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(modelPath)),
        ModelHash = File.Exists(modelPath) ? ModelHashes.ShortHash(modelPath) : null,
    };

    /// <summary>The request as the library's <see cref="GenerationRequest"/>, with the model's name and path.</summary>
    /// <exception cref="StudioRequestException">The request is wrong; names the field.</exception>
    public (GenerationRequest Request, string ModelName, string ModelPath) Read(JsonNode? body)
    {
        if (body is not JsonObject json)
        {
            throw new StudioRequestException("body", "expected a JSON object with " + string.Join(", ", Fields) + ".");
        }

        if (json.Select(p => p.Key).FirstOrDefault(k => !Fields.Contains(k)) is { } unknown)
        {
            throw new StudioRequestException(unknown, "unknown field; expected " + string.Join(", ", Fields) + ".");
        }

        var prompt = Text(json, "prompt") ?? throw new StudioRequestException("prompt", "is required.");
        var sampler = Text(json, "sampler") ?? "Euler a";
        if (!SamplerRegistry.IsKnown(sampler))
        {
            throw new StudioRequestException("sampler", $"unknown sampler \"{sampler}\"; expected one of {string.Join(", ", SamplerRegistry.Names)}.");
        }

        var modelName = Text(json, "model") ?? StudioHome.ToyModelName;
        var modelPath = store.Home.Model(modelName, "model");
        var request = new GenerationRequest
        {
            Prompt = prompt,
            NegativePrompt = Text(json, "negative_prompt") ?? "",
            Sampler = SamplerRegistry.Resolve(sampler),
            Steps = Number(json, "steps", 20, v => v.GetValue<int>()),
            CfgScale = Number(json, "cfg", 7.0, v => v.GetValue<double>()),
            Seed = Number(json, "seed", -1L, v => v.GetValue<long>()),
            Width = Number<int?>(json, "width", null, v => v.GetValue<int>()),
            Height = Number<int?>(json, "height", null, v => v.GetValue<int>()),
            BatchSize = Number(json, "batch_size", 1, v => v.GetValue<int>()),
            Loras = ReadLoras(json["loras"]),
        };
        try
        {
            request.Validate();
        }
        catch (ArgumentException e)
        {
            var field = OptionFields.FirstOrDefault(o => e.Message.StartsWith(o.Option + ":", StringComparison.Ordinal) || e.Message.StartsWith(o.Option + " ", StringComparison.Ordinal)).Field;
            throw new StudioRequestException(field ?? "body", e.Message, e);
        }

        return (request, modelName, modelPath);
    }

    /// <summary>A finished run's LoRA file (its first .safetensors output), or null.</summary>
    internal string? RunLora(RunStatus run) =>
        run.Outputs.FirstOrDefault(o => o.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) is { } output
            ? Path.Combine(store.Folder(run.Id), output)
            : null;

    private GenerateResponse Generate(GenerationRequest request, string modelName, string modelPath, CancellationToken cancellationToken)
    {
        using var model = StableDiffusionModels.Load(modelPath);
        using var pipeline = new StableDiffusionPipeline(model, PipelineOptions(modelName, modelPath));
        using var result = pipeline.Generate(request, cancellationToken: cancellationToken);
        Directory.CreateDirectory(store.Home.Outputs);
        var stem = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var images = new List<GeneratedImageInfo>();
        for (var i = 0; i < result.Images.Count; i++)
        {
            var image = result.Images[i];
            var name = string.Create(CultureInfo.InvariantCulture, $"{stem}-{i:D2}-{image.Seed}.png");
            var text = image.Infotext.ToText();
            PngWriter.Save(Path.Combine(store.Home.Outputs, name), image.Image, new Dictionary<string, string> { [PngText.ParametersKeyword] = text });
            images.Add(new GeneratedImageInfo(name, "/api/images/" + name, image.Seed, image.Image.Width, image.Image.Height, text));
        }

        return new GenerateResponse(images, result.Warnings, result.Total.TotalSeconds);
    }

    private IReadOnlyList<(string, double)> ReadLoras(JsonNode? node)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array)
        {
            throw new StudioRequestException("loras", "expected an array of {\"name\": ..., \"weight\": ...} objects or names.");
        }

        var loras = new List<(string, double)>();
        foreach (var item in array)
        {
            var (name, weight) = item switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.String => (v.GetValue<string>(), 1.0),
                JsonObject o => (Text(o, "name", "loras") ?? throw new StudioRequestException("loras", "each LoRA needs a \"name\"."), Number(o, "weight", 1.0, v => v.GetValue<double>(), "loras")),
                _ => throw new StudioRequestException("loras", "expected an array of {\"name\": ..., \"weight\": ...} objects or names."),
            };
            loras.Add((LoraPath(name), weight));
        }

        return loras;
    }

    private string LoraPath(string name)
    {
        if (name.StartsWith(RunPrefix, StringComparison.Ordinal))
        {
            var id = name[RunPrefix.Length..];
            if (store.Read(id) is not { } run)
            {
                throw new StudioRequestException("loras", $"no run \"{id}\".");
            }

            if (run.State != RunState.Completed || RunLora(run) is not { } file)
            {
                throw new StudioRequestException("loras", $"run {id} is {run.State.ToString().ToLowerInvariant()} and has no .safetensors output to apply.");
            }

            return file;
        }

        var path = store.Home.Confine(store.Home.Loras, name, "loras");
        return File.Exists(path) ? path : throw new StudioRequestException("loras", $"no LoRA \"{name}\" in the loras folder.");
    }

    private static string? Text(JsonObject json, string field, string? report = null) => json[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new StudioRequestException(report ?? field, $"{(report is null ? "" : field + ": ")}expected a string."),
    };

    private static T Number<T>(JsonObject json, string field, T fallback, Func<JsonValue, T> read, string? report = null)
    {
        if (json[field] is null)
        {
            return fallback;
        }

        try
        {
            return json[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? read(v) : throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw new StudioRequestException(report ?? field, $"{(report is null ? "" : field + ": ")}expected a {(typeof(T) == typeof(double) ? "number" : "whole number")} in range, got {json[field]!.ToJsonString()}.");
        }
    }

    /// <summary>True when <paramref name="name"/> can be an image the studio saved (a plain file name).</summary>
    public static bool IsImageName(string name) => ImageName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\\.png$")]
    private static partial Regex ImageName();
}

/// <summary>A LoRA <c>POST /api/generate</c> may name.</summary>
/// <param name="Name">The name to send: a path under <c>loras/</c>, or <c>run:ID</c>.</param>
/// <param name="Source">file or run.</param>
/// <param name="Method">The run's training method, for runs.</param>
public sealed record LoraInfo(string Name, string Source, string? Method);

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
/// <param name="Warnings">What the pipeline warned about (unknown embeddings, LoRA keys that matched nothing...).</param>
/// <param name="Seconds">Wall time of the generation.</param>
public sealed record GenerateResponse(IReadOnlyList<GeneratedImageInfo> Images, IReadOnlyList<string> Warnings, double Seconds);

/// <summary>The body of <c>POST /api/generate</c> (described for the OpenAPI document; read field by field).</summary>
/// <param name="Prompt">The prompt, A1111 syntax.</param>
/// <param name="NegativePrompt">The negative prompt.</param>
/// <param name="Model">toy (default) or a file or folder under <c>models/</c>.</param>
/// <param name="Loras">LoRAs to apply: names under <c>loras/</c> or <c>run:ID</c>, as strings or {name, weight}.</param>
/// <param name="Sampler">A sampler of <c>GET /api/samplers</c> (default Euler a).</param>
/// <param name="Steps">Sampling steps (default 20).</param>
/// <param name="Cfg">CFG scale (default 7).</param>
/// <param name="Seed">Seed of the first image; -1 random (default).</param>
/// <param name="Width">Width; default the model's own size.</param>
/// <param name="Height">Height; default the model's own size.</param>
/// <param name="BatchSize">Images (default 1).</param>
public sealed record GenerateRequestBody(string Prompt, string? NegativePrompt, string? Model, JsonElement? Loras, string? Sampler, int? Steps, double? Cfg, long? Seed, int? Width, int? Height, int? BatchSize);
