using SdTune.Options;
using SdTune.Pipelines.Control;
using SkiaSharp;

namespace SdTune.Pipelines;

/// <summary>What to generate: A1111's txt2img / img2img settings.</summary>
public sealed record GenerationRequest
{
    /// <summary>Sampling steps: 1 to 1000 (the length of the models' noise schedule).</summary>
    internal static readonly NumericRange StepsRange = new(NumberType.Int32, 1, 1000);

    /// <summary>Images per run: 1 to 256, 32 times A1111's largest batch; every image's activations are in memory at once.</summary>
    internal static readonly NumericRange BatchRange = NumericRange.Count(256);

    /// <summary>img2img strength: (0, 1].</summary>
    internal static readonly NumericRange StrengthRange = new(NumberType.Float64, 0, 1, MinExclusive: true);

    /// <summary>The prompt, in A1111 syntax (emphasis, BREAK, AND, [from:to:when], [a|b], embeddings, &lt;lora:…&gt;).</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt (emphasis, scheduling and embeddings; no AND).</summary>
    public string NegativePrompt { get; init; } = string.Empty;

    /// <summary>Sampler name as A1111 spells it ("Euler a", "DPM++ 2M Karras", "DDIM", "Euler", ...) or a kebab alias.</summary>
    public string Sampler { get; init; } = "Euler a";

    /// <summary>Sampling steps.</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale (1 disables the unconditional pass).</summary>
    public double CfgScale { get; init; } = 7.0;

    /// <summary>Seed of the first image; image i uses seed + i (so the last must fit in 64 bits). Negative: a random seed.</summary>
    public long Seed { get; init; } = -1;

    /// <summary>Width in pixels (a multiple of 8, 8 to 8192); null: the model's own size (<see cref="Models.StableDiffusionModel.DefaultImageSize"/>).</summary>
    public int? Width { get; init; }

    /// <summary>Height in pixels (a multiple of 8, 8 to 8192); null: the model's own size (<see cref="Models.StableDiffusionModel.DefaultImageSize"/>).</summary>
    public int? Height { get; init; }

    /// <summary>Images generated together.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>A1111's "Clip skip" for SD 1.x/2.x (1 = last layer).</summary>
    public int ClipSkip { get; init; } = 1;

    /// <summary>img2img: the init image (resized to Width×Height); null for txt2img.</summary>
    public SKBitmap? InitImage { get; init; }

    /// <summary>img2img denoising strength in (0, 1].</summary>
    public double Strength { get; init; } = 0.75;

    /// <summary>LoRA files applied for this request besides the prompt's &lt;lora:…&gt; tags: (file or name, weight; the weight must fit in float32).</summary>
    public IReadOnlyList<(string NameOrPath, double Weight)> Loras { get; init; } = [];

    /// <summary>Textual-inversion embedding files for this generation, named in the prompt by file name (besides the embeddings folder).</summary>
    public IReadOnlyList<string> Embeddings { get; init; } = [];

    /// <summary>Hypernetwork files applied for this request besides the prompt's &lt;hypernet:…&gt; tags, in order: (file or name, strength; the strength must fit in float32).</summary>
    public IReadOnlyList<(string NameOrPath, double Strength)> Hypernetworks { get; init; } = [];

    /// <summary>
    /// Custom Diffusion results applied for this request, in order: weights files or their folders (diffusers'
    /// <c>pytorch_custom_diffusion_weights.safetensors</c>); the modifier-token files in the same folder
    /// (<c>&lt;new1&gt;.safetensors</c>) become embeddings named after their files.
    /// </summary>
    public IReadOnlyList<string> CustomDiffusion { get; init; } = [];

    /// <summary>
    /// ControlNets and T2I-Adapters applied for this request, in order (the infotext numbers them <c>ControlNet 0</c>,
    /// <c>ControlNet 1</c>, ...); their residuals and features are summed.
    /// </summary>
    public IReadOnlyList<ControlRequest> Controls { get; init; } = [];

    /// <summary>Decode (and encode) the VAE in tiles: null decides by image size, true/false forces.</summary>
    public bool? TiledVae { get; init; }

    /// <summary>Checks the settings, each number in the range and precision it is used in; errors name the option as the CLI spells it.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        Require("--width", Width, NumericRange.ImageSide);
        Require("--height", Height, NumericRange.ImageSide);
        Require("--steps", Steps, StepsRange);
        Require("--batch", BatchSize, BatchRange);
        Require("--cfg", CfgScale, NumericRange.NonNegativeFloat32);
        Require("--strength", Strength, StrengthRange);
        Require("--clip-skip", ClipSkip, NumericRange.Count());
        if (Seed > long.MaxValue - (BatchSize - 1))
        {
            throw new ArgumentException($"--seed: {Seed} is out of range for --batch {BatchSize}: image i uses seed + i, and the last seed must fit in 64 bits (at most {long.MaxValue - (BatchSize - 1)}).");
        }

        foreach (var (name, weight) in Loras)
        {
            Require($"--lora {name}: the weight", weight, NumericRange.AnyFloat32);
        }

        foreach (var (name, strength) in Hypernetworks)
        {
            Require($"--hypernetwork {name}: the strength", strength, NumericRange.AnyFloat32);
        }

        foreach (var control in Controls)
        {
            control.Validate();
        }
    }

    /// <summary>The request with its size settled: what is not given is <paramref name="defaultSide"/>, the model's own size.</summary>
    internal GenerationRequest WithSize(int defaultSide) => this with { Width = Width ?? defaultSide, Height = Height ?? defaultSide };

    private static void Require(string option, double? value, NumericRange range)
    {
        if (value is { } v && range.Problem(v) is { } problem)
        {
            throw new ArgumentException($"{option}: {problem}");
        }
    }
}
