using SkiaSharp;

namespace SdTune.Pipelines;

/// <summary>What to generate: A1111's txt2img / img2img settings.</summary>
public sealed record GenerationRequest
{
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

    /// <summary>Seed of the first image; image i uses seed + i. Negative: a random seed.</summary>
    public long Seed { get; init; } = -1;

    /// <summary>Width in pixels (a multiple of 8).</summary>
    public int Width { get; init; } = 512;

    /// <summary>Height in pixels (a multiple of 8).</summary>
    public int Height { get; init; } = 512;

    /// <summary>Images generated together.</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>A1111's "Clip skip" for SD 1.x/2.x (1 = last layer).</summary>
    public int ClipSkip { get; init; } = 1;

    /// <summary>img2img: the init image (resized to Width×Height); null for txt2img.</summary>
    public SKBitmap? InitImage { get; init; }

    /// <summary>img2img denoising strength in (0, 1].</summary>
    public double Strength { get; init; } = 0.75;

    /// <summary>LoRA files applied for this request besides the prompt's &lt;lora:…&gt; tags: (file or name, weight).</summary>
    public IReadOnlyList<(string NameOrPath, double Weight)> Loras { get; init; } = [];

    /// <summary>Decode (and encode) the VAE in tiles: null decides by image size, true/false forces.</summary>
    public bool? TiledVae { get; init; }

    /// <summary>Checks the settings; errors name the setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Width <= 0 || Height <= 0 || Width % 8 != 0 || Height % 8 != 0)
        {
            throw new ArgumentException($"--width and --height must be positive multiples of 8 (got {Width}x{Height}).");
        }

        if (Steps < 1 || Steps > 1000)
        {
            throw new ArgumentException($"--steps must be between 1 and 1000 (got {Steps}).");
        }

        if (BatchSize < 1)
        {
            throw new ArgumentException($"--batch must be at least 1 (got {BatchSize}).");
        }

        if (!double.IsFinite(CfgScale) || CfgScale < 0)
        {
            throw new ArgumentException($"--cfg must be a finite non-negative number (got {CfgScale}).");
        }

        if (InitImage is not null && (!(Strength > 0) || Strength > 1))
        {
            throw new ArgumentException($"--strength must be in (0, 1] (got {Strength}).");
        }

        if (ClipSkip < 1)
        {
            throw new ArgumentException($"--clip-skip must be at least 1 (got {ClipSkip}).");
        }
    }
}
