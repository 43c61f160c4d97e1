namespace SdTune.Schedulers;

/// <summary>
/// The steps one sampling run takes, made by <see cref="ISampler.CreatePlan"/>: the timesteps at which the model is
/// evaluated, the matching noise levels, and which slice of them to run (img2img starts later; a base/refiner split
/// ends earlier).
/// </summary>
public sealed class SamplingPlan
{
    private readonly double[] timesteps;
    private readonly double[] sigmas;

    internal SamplingPlan(string samplerName, double[] timesteps, double[] sigmas, double initNoiseSigma, int startIndex, int endIndex)
    {
        if (sigmas.Length != timesteps.Length + 1)
        {
            throw new ArgumentException($"A plan needs one more sigma than timesteps ({timesteps.Length}), got {sigmas.Length}.", nameof(sigmas));
        }

        if (startIndex < 0 || endIndex > timesteps.Length || startIndex >= endIndex)
        {
            throw new ArgumentOutOfRangeException(
                nameof(startIndex), $"The steps to run [{startIndex}, {endIndex}) must be a non-empty range inside the {timesteps.Length} planned steps.");
        }

        SamplerName = samplerName;
        this.timesteps = timesteps;
        this.sigmas = sigmas;
        InitNoiseSigma = initNoiseSigma;
        StartIndex = startIndex;
        EndIndex = endIndex;
    }

    /// <summary>The sampler that made the plan (<see cref="ISampler.Name"/>); only that kind of sampler runs it.</summary>
    public string SamplerName { get; }

    /// <summary>Model timesteps of all planned steps, descending (fractional for the Euler samplers).</summary>
    public IReadOnlyList<double> Timesteps => timesteps;

    /// <summary>
    /// Noise level σ = √((1 − ᾱ)/ᾱ) before each step plus the level after the last step (0 unless DDIM ends at ᾱ₀):
    /// <c>StepCount + 1</c> values, as float32 values widened to double.
    /// </summary>
    public IReadOnlyList<double> Sigmas => sigmas;

    /// <summary>What txt2img multiplies unit noise by to get the first latents (diffusers' <c>init_noise_sigma</c>).</summary>
    public double InitNoiseSigma { get; }

    /// <summary>Number of planned steps (the <c>steps</c> the plan was made for).</summary>
    public int StepCount => Timesteps.Count;

    /// <summary>Index of the first step to run (0 for txt2img; later for img2img).</summary>
    public int StartIndex { get; }

    /// <summary>Index after the last step to run (<see cref="StepCount"/> unless the run stops early).</summary>
    public int EndIndex { get; }

    /// <summary>The same plan, running only the steps in [<paramref name="startIndex"/>, <paramref name="endIndex"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or outside the plan.</exception>
    public SamplingPlan WithRange(int startIndex, int endIndex) =>
        new(SamplerName, timesteps, sigmas, InitNoiseSigma, startIndex, endIndex);

    /// <summary>
    /// Where img2img starts, diffusers' convention: <c>init = min(floor(steps·strength), steps)</c> steps are run,
    /// starting at index <c>steps − init</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">strength is outside (0, 1] or leaves no step to run.</exception>
    internal static int Img2ImgStartIndex(int steps, double strength)
    {
        if (!(strength > 0 && strength <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "Denoising strength must lie in (0, 1].");
        }

        var initSteps = Math.Min((int)(steps * strength), steps);
        if (initSteps < 1)
        {
            throw new ArgumentOutOfRangeException(
                nameof(strength), strength, $"Denoising strength {strength} with {steps} steps leaves no step to run; raise the strength or the steps.");
        }

        return steps - initSteps;
    }
}
