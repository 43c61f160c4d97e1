namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// Settings of toy base-model pretraining. A stage stops at its step count, or earlier when its share of the time
/// budget is spent; with <see cref="Minutes"/> null only the step counts decide, and a run is reproducible on CPU.
/// The VAE stage's learning rate decays over whichever runs out first, its steps or its time; the UNet stage is a
/// trainer run whose cosine follows its steps (the budget only stops it after the current step).
/// </summary>
public sealed record ToyPretrainingOptions
{
    /// <summary>
    /// Seeds the weights, the world, batches, noise and caption choices. The default is 1: with this recipe, seed 0 gave a
    /// model below the held-out target (colour) and seed 1 one above it (see the README's toy-world section).
    /// </summary>
    public long Seed { get; init; } = 1;

    /// <summary>The total wall-clock budget of both stages in minutes; null for no limit.</summary>
    public double? Minutes { get; init; }

    /// <summary>The VAE stage's share of <see cref="Minutes"/>.</summary>
    public double VaeShare { get; init; } = 0.15;

    /// <summary>How many distinct training pictures are drawn (rendered once, kept in memory).</summary>
    public int TrainImages { get; init; } = 8192;

    /// <summary>
    /// The fraction of the UNet's training pictures filled with a pattern (stripes, dots, checks or halves in a second
    /// colour; each shape shows three of the four, see <see cref="ToyPatternSplit"/>), captioned like "a red and yellow
    /// striped heart". 0, the default, is the solid-only recipe the README's from-scratch figures were measured with.
    /// </summary>
    public double PatternedShare { get; init; }

    /// <summary>
    /// A toy base model (diffusers folder or single file) to continue from: the VAE stage is skipped (its VAE and scaling
    /// factor are kept) and the UNet + text-encoder stage trains on from its weights. Null trains from random weights.
    /// </summary>
    public string? ContinueFrom { get; init; }

    /// <summary>How many extra patterned pictures (random stripes, dots, checks, halves) only the VAE trains on.</summary>
    public int VaeOnlyImages { get; init; } = 4096;

    /// <summary>Most VAE steps.</summary>
    public int VaeSteps { get; init; } = 3500;

    /// <summary>VAE batch size.</summary>
    public int VaeBatch { get; init; } = 16;

    /// <summary>VAE learning rate (AdamW).</summary>
    public double VaeLearningRate { get; init; } = 1e-3;

    /// <summary>Weight of the KL term (per latent element) against the per-pixel reconstruction MSE.</summary>
    public double VaeKlWeight { get; init; } = 1e-4;

    /// <summary>Most UNet + text-encoder steps.</summary>
    public int DiffusionSteps { get; init; } = 7000;

    /// <summary>UNet + text-encoder batch size.</summary>
    public int DiffusionBatch { get; init; } = 32;

    /// <summary>UNet learning rate (AdamW).</summary>
    public double UnetLearningRate { get; init; } = 1e-3;

    /// <summary>Text-encoder learning rate (AdamW).</summary>
    public double TextEncoderLearningRate { get; init; } = 1e-3;

    /// <summary>
    /// Offset-noise strength of the UNet stage (<see cref="Schedulers.OffsetNoise"/>). Needed here, not just nice: SD's
    /// schedule leaves 6.8% of the signal at the last timestep, and on 16×16 latents the mean of pure noise varies by
    /// about as much, so without an offset the model learns to read the background colour from the starting noise
    /// instead of from the prompt.
    /// </summary>
    public double NoiseOffset { get; init; } = 0.2;

    /// <summary>The fraction of captions replaced by the empty prompt (<c>caption_dropout_rate</c>), so classifier-free guidance has an unconditional model.</summary>
    public double CaptionDropout { get; init; } = 0.1;

    /// <summary>Linear warm-up steps of both stages (cosine decay follows: to a tenth for the VAE, to zero for the UNet stage as diffusers' <c>cosine</c>).</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>Measures the model with the evaluator every this many UNet steps (a small, quick evaluation); null never.</summary>
    public int? EvaluateEvery { get; init; }

    /// <summary>Prompts per split of those intermediate evaluations.</summary>
    public int EvaluatePrompts { get; init; } = 16;

    /// <summary>Logs a line every this many steps.</summary>
    public int LogEvery { get; init; } = 25;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Minutes is { } m && !(m > 0))
        {
            throw new ArgumentException($"Pretraining minutes must be positive (got {m}).");
        }

        if (!(VaeShare is > 0 and < 1))
        {
            throw new ArgumentException($"The VAE share of the budget must be in (0, 1) (got {VaeShare}).");
        }

        if (!(PatternedShare is >= 0 and <= 1))
        {
            throw new ArgumentException($"The patterned share of the pretraining pictures must be in [0, 1] (got {PatternedShare}).");
        }

        if (VaeOnlyImages < 0)
        {
            throw new ArgumentException($"The number of VAE-only pictures must not be negative (got {VaeOnlyImages}).");
        }

        if (TrainImages < 1 || VaeSteps < 1 || VaeBatch < 1 || DiffusionSteps < 1 || DiffusionBatch < 1 || LogEvery < 1 || WarmupSteps < 0
            || EvaluateEvery is < 1 || EvaluatePrompts < 1)
        {
            throw new ArgumentException("Pretraining image count, step counts, batch sizes, log and evaluation intervals must be at least 1 (warm-up at least 0).");
        }

        if (!(CaptionDropout is >= 0 and < 1))
        {
            throw new ArgumentException($"Caption dropout must be in [0, 1) (got {CaptionDropout}).");
        }

        if (!(VaeLearningRate > 0) || !(UnetLearningRate > 0) || !(TextEncoderLearningRate > 0) || !(VaeKlWeight >= 0) || !(NoiseOffset >= 0))
        {
            throw new ArgumentException("Learning rates must be positive, the KL weight and the noise offset non-negative.");
        }
    }
}
