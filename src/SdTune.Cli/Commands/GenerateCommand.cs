using System.CommandLine;
using System.Globalization;
using SdTune.Checkpoints;
using SdTune.Cli.Output;
using SdTune.Imaging;
using SdTune.IO;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Pipelines.Grids;
using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune generate</c>: txt2img / img2img with A1111 prompt syntax; PNGs carry A1111's parameters.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A diffusers folder or a single-file checkpoint (.safetensors/.ckpt).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "The prompt (A1111 syntax: (word:1.2), [word], BREAK, AND, [a:b:0.5], [a|b], embeddings by name, <lora:name:w>, <hypernet:name:m>).", Required = true };
        var negative = new Option<string>("--negative-prompt") { Description = "The negative prompt.", DefaultValueFactory = _ => "" };
        var sampler = new Option<string>("--sampler") { Description = $"Sampler: {string.Join(", ", SamplerRegistry.Names)}.", DefaultValueFactory = _ => "Euler a" };
        var steps = new Option<int>("--steps") { Description = "Sampling steps.", DefaultValueFactory = _ => 20 };
        var cfg = new Option<double>("--cfg") { Description = "Classifier-free guidance scale.", DefaultValueFactory = _ => 7.0 };
        var seed = new Option<long>("--seed") { Description = "Seed of the first image (image i uses seed+i); -1 for random.", DefaultValueFactory = _ => -1 };
        var width = new Option<int?>("--width") { Description = "Width (multiple of 8, up to 8192; default: the model's own size, e.g. 512 for SD 1.5, 32 for the toy model)." };
        var height = new Option<int?>("--height") { Description = "Height (multiple of 8, up to 8192; default: the model's own size)." };
        var batch = new Option<int>("--batch") { Description = "Images per run.", DefaultValueFactory = _ => 1 };
        var initImage = new Option<string?>("--init-image") { Description = "img2img: the starting image." };
        var strength = new Option<double>("--strength") { Description = "img2img denoising strength (0-1].", DefaultValueFactory = _ => 0.75 };
        var embeddings = new Option<string?>("--embeddings") { Description = "Folder of textual-inversion embeddings, used by file name in prompts." };
        var embedding = new Option<string[]>("--embedding") { Description = "Use a textual-inversion embedding file (or diffusers folder), named in the prompt by its file name (repeatable).", AllowMultipleArgumentsPerToken = false };
        var loraDir = new Option<string?>("--lora-dir") { Description = "Folder of LoRA files for <lora:name:weight> tags." };
        var lora = new Option<string[]>("--lora") { Description = "Apply a LoRA file: FILE[:weight] (repeatable).", AllowMultipleArgumentsPerToken = false };
        var hypernetworkDir = new Option<string?>("--hypernetwork-dir") { Description = "Folder of A1111 hypernetwork files (.pt) for <hypernet:name:strength> tags." };
        var hypernetwork = new Option<string[]>("--hypernetwork") { Description = "Apply an A1111 hypernetwork file: FILE[:strength] (repeatable, applied in order).", AllowMultipleArgumentsPerToken = false };
        var customDiffusion = new Option<string[]>("--custom-diffusion") { Description = "Apply Custom Diffusion weights: a folder with pytorch_custom_diffusion_weights.safetensors (its <token>.safetensors files become embeddings) or the file (repeatable).", AllowMultipleArgumentsPerToken = false };
        var clipSkip = new Option<int>("--clip-skip") { Description = "A1111 Clip skip (SD 1.x/2.x).", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "outputs" };
        var dtype = new Option<string>("--dtype") { Description = "Weights dtype: fp32, fp16, bf16.", DefaultValueFactory = _ => "fp32" };
        var device = new Option<string>("--device") { Description = "cpu or cuda (needs the CUDA build).", DefaultValueFactory = _ => "cpu" };
        var prediction = new Option<string?>("--prediction-type") { Description = "epsilon or v_prediction, for single files that do not record it (SD 2.x)." };
        var tiled = new Option<bool?>("--tiled-vae") { Description = "Force tiled VAE decoding on or off (default: on above 1024x1024)." };

        var controls = new GenerateControlOptions();
        var grids = new GenerateGridOptions();
        var command = new Command("generate", "Generate images (txt2img, or img2img with --init-image; ControlNets and T2I-Adapters with --controlnet/--t2i-adapter and --control-image).")
        {
            model, prompt, negative, sampler, steps, cfg, seed, width, height, batch, initImage, strength, embeddings, embedding, loraDir, lora, hypernetworkDir, hypernetwork, customDiffusion, clipSkip, output, dtype, device, prediction, tiled,
        };
        foreach (var option in controls.All.Concat(grids.All))
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var modelPath = parse.GetRequiredValue(model);
            var loadOptions = new ModelLoadOptions
            {
                DType = ParseDType(parse.GetValue(dtype)!),
                PredictionType = parse.GetValue(prediction) is { } p ? PredictionTypes.FromDiffusers(p) ?? throw new ArgumentException($"--prediction-type must be epsilon or v_prediction, not '{p}'.") : null,
            };
            using var initBitmap = parse.GetValue(initImage) is { } initPath ? ImageFile.Load(initPath) : null;
            var controlImages = new List<SkiaSharp.SKBitmap>();
            using var disposeControlImages = new DisposeAll(controlImages);
            var controlRequests = controls.Read(parse, controlImages);
            var request = new GenerationRequest
            {
                Prompt = parse.GetRequiredValue(prompt),
                NegativePrompt = parse.GetValue(negative) ?? "",
                Sampler = SamplerRegistry.Resolve(parse.GetValue(sampler)!),
                Steps = parse.GetValue(steps),
                CfgScale = parse.GetValue(cfg),
                Seed = parse.GetValue(seed),
                Width = parse.GetValue(width),
                Height = parse.GetValue(height),
                BatchSize = parse.GetValue(batch),
                InitImage = initBitmap,
                Strength = parse.GetValue(strength),
                ClipSkip = parse.GetValue(clipSkip),
                TiledVae = parse.GetValue(tiled),
                Loras = [.. (parse.GetValue(lora) ?? []).Select(ParseLoraOption)],
                Embeddings = parse.GetValue(embedding) ?? [],
                Hypernetworks = [.. (parse.GetValue(hypernetwork) ?? []).Select(ParseLoraOption)],
                CustomDiffusion = parse.GetValue(customDiffusion) ?? [],
                Controls = controlRequests,
            };
            request.Validate();

            (StableDiffusionModel Model, StableDiffusionPipeline Pipeline) Open(string path)
            {
                var sd = StableDiffusionModels.Load(path, loadOptions);
                try
                {
                    MoveTo(sd, parse.GetValue(device)!);
                    return (sd, new StableDiffusionPipeline(sd, new PipelineOptions
                    {
                        EmbeddingsFolder = parse.GetValue(embeddings),
                        LoraFolder = parse.GetValue(loraDir),
                        HypernetworkFolder = parse.GetValue(hypernetworkDir),
                        ModelName = Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(path)),
                        ModelHash = File.Exists(path) ? ModelHashes.ShortHash(path) : null,
                    }));
                }
                catch
                {
                    sd.Dispose();
                    throw;
                }
            }

            if (grids.Plan(parse, request, parse.GetValue(loraDir)) is { } plan)
            {
                return grids.Run(parse, plan, checkpoint =>
                {
                    var (cellModel, cellPipeline) = Open(checkpoint ?? modelPath);
                    return new GridModel(cellPipeline, cellModel);
                }, parse.GetValue(output)!);
            }

            var (sd, pipeline) = Open(modelPath);
            using var disposeModel = sd;
            using var disposePipeline = pipeline;
            var title = $"{sd.Architecture} {request.Width ?? sd.DefaultImageSize}x{request.Height ?? sd.DefaultImageSize} {request.Sampler}";
            var result = StepProgress.Run(title, progress => pipeline.Generate(request, p =>
                progress.Report(p.Step, p.Total, $"{title}: step {p.Step}/{p.Total}")));

            using (result)
            {
                foreach (var warning in result.Warnings)
                {
                    Console.Error.WriteLine($"warning: {warning}");
                }

                var folder = PrepareFolder(parse.GetValue(output)!);
                var index = NextIndex(folder);
                foreach (var image in result.Images)
                {
                    var file = Path.Combine(folder, $"{index++:D5}-{image.Seed}.png");
                    PngWriter.Save(file, image.Image, new Dictionary<string, string> { ["parameters"] = image.Infotext.ToText() });
                    Console.WriteLine(file);
                }

                if (result.Images.Count > 1)
                {
                    using var grid = ImageGrid.Create([.. result.Images.Select(i => i.Image)]);
                    var gridFile = Path.Combine(folder, $"grid-{index - 1:D5}.png");
                    PngWriter.Save(gridFile, grid, new Dictionary<string, string> { ["parameters"] = result.Images[0].Infotext.ToText() });
                    Console.WriteLine(gridFile);
                }

                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done in {result.Total.TotalSeconds:F1} s ({result.Unet.TotalSeconds:F1} s in {result.UnetCalls} UNet passes)"));
            }

            return 0;
        });
        return command;
    }

    internal static ScalarType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "fp32" or "float32" or "float" => ScalarType.Float32,
        "fp16" or "float16" or "half" => ScalarType.Float16,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"--dtype must be fp32, fp16 or bf16, not '{text}'."),
    };

    internal static void MoveTo(StableDiffusionModel model, string device)
    {
        if (device.Equals("cpu", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (!device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--device must be cpu or cuda[:N], not '{device}'.");
        }

        if (!cuda.is_available())
        {
            throw new ArgumentException("--device cuda: CUDA is not available (build with -p:SdTuneTorchBackend=cuda-linux on a machine with an NVIDIA GPU).");
        }

        model.To(new Device(device));
    }

    private static (string, double) ParseLoraOption(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon > 0 && double.TryParse(text[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
        {
            return (text[..colon], weight);
        }

        return (text, 1.0);
    }

    /// <summary>Disposes the bitmaps of a list when the command ends.</summary>
    private sealed class DisposeAll(List<SkiaSharp.SKBitmap> bitmaps) : IDisposable
    {
        public void Dispose() => bitmaps.ForEach(b => b.Dispose());
    }

    /// <summary>Creates the output folder and sweeps what an interrupted save left there.</summary>
    internal static string PrepareFolder(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var action in StagingPaths.SweepStale(folder))
        {
            Console.Error.WriteLine($"note: {action}");
        }

        return folder;
    }

    /// <summary>A1111 numbers images on from the highest existing NNNNN- prefix.</summary>
    internal static int NextIndex(string folder) =>
        Directory.EnumerateFiles(folder, "*.png")
            .Select(f => Path.GetFileName(f))
            .Select(n => n.Length > 5 && int.TryParse(n.AsSpan(0, 5), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i + 1 : 0)
            .DefaultIfEmpty(0)
            .Max();
}
