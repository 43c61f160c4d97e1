using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.Imaging;
using SdTune.Imaging.Preprocessors;
using SdTune.Pipelines;
using SdTune.Pipelines.Control;
using SdTune.Schedulers;
using SkiaSharp;

namespace SdTune.Studio.Generation;

/// <summary>
/// Reads a <c>POST /api/generate</c> body field by field into the library's <see cref="GenerationRequest"/>: every
/// mistake names its field, every file it names is confined to its library folder (or is a finished run's LoRA).
/// </summary>
internal sealed class GenerateRequestReader(StudioLibrary library)
{
    /// <summary>The request's fields.</summary>
    public static readonly IReadOnlyList<string> Fields =
        ["prompt", "negative_prompt", "model", "loras", "hypernetworks", "sampler", "steps", "cfg", "seed", "width", "height", "batch_size", "init_image", "strength", "controls", "grid"];

    /// <summary>The fields of one control.</summary>
    private static readonly IReadOnlyList<string> ControlFields = ["type", "model", "image", "scale", "start", "end", "resize", "preprocessor", "guess_mode"];

    /// <summary>The CLI's option names in the library's messages, and the request fields they are.</summary>
    private static readonly (string Option, string Field)[] OptionFields =
    [
        ("--width", "width"), ("--height", "height"), ("--steps", "steps"), ("--batch", "batch_size"), ("--cfg", "cfg"), ("--seed", "seed"),
        ("--strength", "strength"), ("--lora", "loras"), ("--hypernetwork", "hypernetworks"), ("--controlnet", "controls"), ("--t2i-adapter", "controls"),
        ("--control-start", "controls"), ("--control-end", "controls"),
    ];

    /// <summary>Reads and checks the request; the caller disposes the result (it holds the decoded images).</summary>
    /// <exception cref="StudioRequestException">A field is missing, of the wrong type, out of range, or names an unknown sampler, model or file.</exception>
    public StudioGeneration Read(JsonNode? body)
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
        var modelPath = library.Home.Model(modelName, "model");
        var images = new List<SKBitmap>();
        try
        {
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
                Loras = Weighted(json["loras"], "loras", "weight", library.LoraPath),
                Hypernetworks = Weighted(json["hypernetworks"], "hypernetworks", "strength", n => library.FilePath(library.Home.Hypernetworks, n, "hypernetworks", "hypernetwork")),
                InitImage = Image(json, "init_image", images),
                Strength = Number(json, "strength", 0.75, v => v.GetValue<double>()),
                Controls = Controls(json["controls"], images),
            };
            Validate(request);
            return new StudioGeneration(request, modelName, modelPath, Flag(json, "grid", "grid") ?? false, images);
        }
        catch
        {
            foreach (var image in images)
            {
                image.Dispose();
            }

            throw;
        }
    }

    private static void Validate(GenerationRequest request)
    {
        try
        {
            request.Validate();
        }
        catch (ArgumentException e)
        {
            var field = OptionFields.FirstOrDefault(o => e.Message.StartsWith(o.Option + ":", StringComparison.Ordinal) || e.Message.StartsWith(o.Option + " ", StringComparison.Ordinal)).Field;
            throw new StudioRequestException(field ?? "body", e.Message, e);
        }
    }

    private List<ControlRequest> Controls(JsonNode? node, List<SKBitmap> images)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array || array.Any(c => c is not JsonObject))
        {
            throw new StudioRequestException("controls", "expected an array of {\"model\": ..., \"image\": ...} objects.");
        }

        var controls = new List<ControlRequest>();
        foreach (var control in array.Cast<JsonObject>())
        {
            if (control.Select(p => p.Key).FirstOrDefault(k => !ControlFields.Contains(k)) is { } unknown)
            {
                throw new StudioRequestException("controls", $"{unknown}: unknown field of a control; expected {string.Join(", ", ControlFields)}.");
            }

            var type = Text(control, "type", "controls") ?? "controlnet";
            var model = Text(control, "model", "controls") ?? throw new StudioRequestException("controls", "each control needs a \"model\" (a ControlNet or T2I-Adapter under controlnet/).");
            var resize = Text(control, "resize", "controls") ?? "crop";
            var preprocessor = Text(control, "preprocessor", "controls");
            if (preprocessor is not null and not "none" && !PreprocessorRegistry.Names.Contains(preprocessor))
            {
                throw new StudioRequestException("controls", $"preprocessor: unknown preprocessor \"{preprocessor}\"; expected none or one of {string.Join(", ", PreprocessorRegistry.Names)}.");
            }

            controls.Add(new ControlRequest
            {
                Type = type switch
                {
                    "controlnet" => ControlType.ControlNet,
                    "t2i_adapter" => ControlType.T2IAdapter,
                    _ => throw new StudioRequestException("controls", $"type: \"{type}\" is not controlnet or t2i_adapter."),
                },
                ModelPath = library.EntryPath(library.Home.ControlNets, model, "controls", "ControlNet or T2I-Adapter"),
                Image = Image(control, "image", images, "controls") ?? throw new StudioRequestException("controls", "each control needs an \"image\" (base64 or a data: URL)."),
                Scale = Number(control, "scale", 1.0, v => v.GetValue<double>(), "controls"),
                GuidanceStart = Number(control, "start", 0.0, v => v.GetValue<double>(), "controls"),
                GuidanceEnd = Number(control, "end", 1.0, v => v.GetValue<double>(), "controls"),
                ResizeMode = Parse(() => ControlResizeModes.Parse(resize), "controls", "resize"),
                Preprocessor = preprocessor is null or "none" ? null : preprocessor,
                GuessMode = Flag(control, "guess_mode", "controls") ?? false,
            });
        }

        return controls;
    }

    private static List<(string, double)> Weighted(JsonNode? node, string field, string weightName, Func<string, string> resolve)
    {
        if (node is null)
        {
            return [];
        }

        var shape = $"expected an array of {{\"name\": ..., \"{weightName}\": ...}} objects or names.";
        if (node is not JsonArray array)
        {
            throw new StudioRequestException(field, shape);
        }

        var items = new List<(string, double)>();
        foreach (var item in array)
        {
            var (name, weight) = item switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.String => (v.GetValue<string>(), 1.0),
                JsonObject o => (Text(o, "name", field) ?? throw new StudioRequestException(field, "each entry needs a \"name\"."), Number(o, weightName, 1.0, v => v.GetValue<double>(), field)),
                _ => throw new StudioRequestException(field, shape),
            };
            items.Add((resolve(name), weight));
        }

        return items;
    }

    /// <summary>An image given as base64 (optionally a <c>data:</c> URL), decoded and added to <paramref name="images"/>; null when absent.</summary>
    private static SKBitmap? Image(JsonObject json, string name, List<SKBitmap> images, string? report = null)
    {
        if (Text(json, name, report) is not { } text)
        {
            return null;
        }

        var field = report ?? name;
        var comma = text.StartsWith("data:", StringComparison.Ordinal) ? text.IndexOf(',', StringComparison.Ordinal) : -1;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(comma >= 0 ? text[(comma + 1)..] : text);
        }
        catch (FormatException e)
        {
            throw new StudioRequestException(field, $"{(report is null ? "" : name + ": ")}not valid base64.", e);
        }

        try
        {
            var bitmap = ImageFile.Decode(bytes, name);
            images.Add(bitmap);
            return bitmap;
        }
        catch (ImageLoadException e)
        {
            throw new StudioRequestException(field, e.Message, e);
        }
    }

    private static T Parse<T>(Func<T> parse, string field, string name)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw new StudioRequestException(field, $"{name}: {e.Message}", e);
        }
    }

    private static string? Text(JsonObject json, string field, string? report = null) => json[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new StudioRequestException(report ?? field, $"{(report is null ? "" : field + ": ")}expected a string."),
    };

    private static bool? Flag(JsonObject json, string field, string report) => json[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw new StudioRequestException(report, $"{(report == field ? "" : field + ": ")}expected true or false."),
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
}

/// <summary>A checked generation request with the images it decoded (disposed with it).</summary>
/// <param name="Request">The library's request.</param>
/// <param name="ModelName">The model's name in the request.</param>
/// <param name="ModelPath">The model's path.</param>
/// <param name="Grid">Also save the batch as one grid image.</param>
/// <param name="Images">The decoded init and control images.</param>
internal sealed record StudioGeneration(GenerationRequest Request, string ModelName, string ModelPath, bool Grid, IReadOnlyList<SKBitmap> Images) : IDisposable
{
    /// <summary>Disposes the decoded images.</summary>
    public void Dispose()
    {
        foreach (var image in Images)
        {
            image.Dispose();
        }
    }
}
