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
        var fields = new RequestFields(body, Fields);
        var prompt = fields.Text("prompt") ?? throw new StudioRequestException("prompt", "is required.");
        var sampler = fields.Text("sampler") ?? "Euler a";
        if (!SamplerRegistry.IsKnown(sampler))
        {
            throw new StudioRequestException("sampler", $"unknown sampler \"{sampler}\"; expected one of {string.Join(", ", SamplerRegistry.Names)}.");
        }

        var modelName = fields.Text("model") ?? StudioHome.ToyModelName;
        var modelPath = library.Home.Model(modelName, "model");
        var images = new List<SKBitmap>();
        try
        {
            var request = new GenerationRequest
            {
                Prompt = prompt,
                NegativePrompt = fields.Text("negative_prompt") ?? "",
                Sampler = SamplerRegistry.Resolve(sampler),
                Steps = fields.Value("steps", 20),
                CfgScale = fields.Value("cfg", 7.0),
                Seed = fields.Value("seed", -1L),
                Width = fields.Optional<int>("width"),
                Height = fields.Optional<int>("height"),
                BatchSize = fields.Value("batch_size", 1),
                Loras = Weighted(fields["loras"], "loras", "weight", library.LoraPath),
                Hypernetworks = Weighted(fields["hypernetworks"], "hypernetworks", "strength", n => library.FilePath(library.Home.Hypernetworks, n, "hypernetworks", "hypernetwork")),
                InitImage = Image(fields, "init_image", images),
                Strength = fields.Value("strength", 0.75),
                Controls = Controls(fields["controls"], images),
            };
            Validate(request);
            return new StudioGeneration(request, modelName, modelPath, fields.Flag("grid", false), images);
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

        if (node is not JsonArray array)
        {
            throw new StudioRequestException("controls", "expected an array of {\"model\": ..., \"image\": ...} objects.");
        }

        var controls = new List<ControlRequest>();
        foreach (var item in array)
        {
            var control = new RequestFields(item, ControlFields, "controls");
            var type = control.Text("type") ?? "controlnet";
            var model = control.Text("model") ?? throw control.Error("model", "each control needs a model (a ControlNet or T2I-Adapter under controlnet/).");
            var resize = control.Text("resize") ?? "crop";
            var preprocessor = control.Text("preprocessor");
            if (preprocessor is not null and not "none" && !PreprocessorRegistry.Names.Contains(preprocessor))
            {
                throw control.Error("preprocessor", $"unknown preprocessor \"{preprocessor}\"; expected none or one of {string.Join(", ", PreprocessorRegistry.Names)}.");
            }

            controls.Add(new ControlRequest
            {
                Type = type switch
                {
                    "controlnet" => ControlType.ControlNet,
                    "t2i_adapter" => ControlType.T2IAdapter,
                    _ => throw control.Error("type", $"\"{type}\" is not controlnet or t2i_adapter."),
                },
                ModelPath = library.EntryPath(library.Home.ControlNets, model, "controls", "ControlNet or T2I-Adapter"),
                Image = Image(control, "image", images) ?? throw control.Error("image", "each control needs an image (base64 or a data: URL)."),
                Scale = control.Value("scale", 1.0),
                GuidanceStart = control.Value("start", 0.0),
                GuidanceEnd = control.Value("end", 1.0),
                ResizeMode = Parse(() => ControlResizeModes.Parse(resize), control, "resize"),
                Preprocessor = preprocessor is null or "none" ? null : preprocessor,
                GuessMode = control.Flag("guess_mode", false),
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

        if (node is not JsonArray array)
        {
            throw new StudioRequestException(field, $"expected an array of {{\"name\": ..., \"{weightName}\": ...}} objects or names.");
        }

        var items = new List<(string, double)>();
        foreach (var item in array)
        {
            if (item is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            {
                items.Add((resolve(v.GetValue<string>()), 1.0));
                continue;
            }

            var entry = new RequestFields(item, ["name", weightName], field);
            var name = entry.Text("name") ?? throw entry.Error("name", "each entry needs a name.");
            items.Add((resolve(name), entry.Value(weightName, 1.0)));
        }

        return items;
    }

    /// <summary>An image given as base64 (optionally a <c>data:</c> URL), decoded and added to <paramref name="images"/>; null when absent.</summary>
    private static SKBitmap? Image(RequestFields fields, string name, List<SKBitmap> images)
    {
        if (fields.Text(name) is not { } text)
        {
            return null;
        }

        var comma = text.StartsWith("data:", StringComparison.Ordinal) ? text.IndexOf(',', StringComparison.Ordinal) : -1;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(comma >= 0 ? text[(comma + 1)..] : text);
        }
        catch (FormatException e)
        {
            throw fields.Error(name, "not valid base64.", e);
        }

        try
        {
            var bitmap = ImageFile.Decode(bytes, name);
            images.Add(bitmap);
            return bitmap;
        }
        catch (ImageLoadException e)
        {
            throw fields.Error(name, e.Message, e);
        }
    }

    private static T Parse<T>(Func<T> parse, RequestFields fields, string name)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw fields.Error(name, e.Message, e);
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
