using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// A sampler: turns noise into latents by repeatedly calling a <see cref="Denoiser"/>. Typical use:
/// <code>
/// var plan = sampler.CreatePlan(steps);                          // or CreatePlan(steps, strength) for img2img
/// using var noise = new SeededNoise(seed, batch);
/// var x = sampler.PrepareLatents(plan, noise.Initial(shape, ScalarType.Float32, device), initLatents: null);
/// var result = sampler.Sample(plan, x, (input, t, i) => unetWithCfg(input, t), new() { Noise = noise });
/// </code>
/// </summary>
public interface ISampler
{
    /// <summary>The name users know it by (AUTOMATIC1111's: "Euler a", "DPM++ 2M Karras", …).</summary>
    string Name { get; }

    /// <summary>The training noise schedule the model was trained with.</summary>
    NoiseSchedule Schedule { get; }

    /// <summary>Lays out the timesteps and noise levels of <paramref name="steps"/> steps.</summary>
    /// <param name="steps">Number of inference steps.</param>
    /// <param name="strength">
    /// img2img denoising strength in (0, 1]: only the last <c>floor(steps·strength)</c> steps run (diffusers' rule).
    /// 1 runs them all (txt2img).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">steps is not positive or exceeds the training timesteps, or strength is invalid.</exception>
    SamplingPlan CreatePlan(int steps, double strength = 1.0);

    /// <summary>
    /// The latents the run starts from. txt2img (<paramref name="initLatents"/> null): <c>noise · InitNoiseSigma</c>.
    /// img2img: the (VAE-scaled) init latents noised to the level of the plan's first step to run.
    /// </summary>
    /// <param name="plan">A plan made by this sampler.</param>
    /// <param name="noise">Unit Gaussian noise in the latent shape (see <see cref="SeededNoise.InitialNoise"/>).</param>
    /// <param name="initLatents">The image's latents for img2img, or null.</param>
    /// <returns>float32 latents.</returns>
    /// <exception cref="ArgumentException">The plan belongs to another sampler, or an img2img plan has no init latents.</exception>
    Tensor PrepareLatents(SamplingPlan plan, Tensor noise, Tensor? initLatents = null);

    /// <summary>Runs the plan's steps from <paramref name="latents"/>.</summary>
    /// <param name="plan">A plan made by this sampler.</param>
    /// <param name="latents">The starting latents (from <see cref="PrepareLatents"/>); not modified.</param>
    /// <param name="denoise">The model (with guidance) to call once per step.</param>
    /// <param name="options">Noise source, progress callback, cancellation; null for none.</param>
    /// <returns>The final latents, in the dtype of <paramref name="latents"/>.</returns>
    /// <exception cref="ArgumentException">The plan belongs to another sampler.</exception>
    /// <exception cref="InvalidOperationException">The sampler needs a noise source and none was given.</exception>
    Tensor Sample(SamplingPlan plan, Tensor latents, Denoiser denoise, SamplerRunOptions? options = null);
}
