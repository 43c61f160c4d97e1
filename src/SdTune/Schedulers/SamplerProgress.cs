using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// Reported after every sampling step. The tensors belong to the sampler and are valid only during the callback
/// (clone them to keep them, e.g. for a preview).
/// </summary>
/// <param name="StepIndex">Index of the step just taken in <see cref="SamplingPlan.Timesteps"/>.</param>
/// <param name="Completed">Steps completed in this run, 1 after the first.</param>
/// <param name="Total">Steps this run takes (<see cref="SamplingPlan.EndIndex"/> − <see cref="SamplingPlan.StartIndex"/>).</param>
/// <param name="Timestep">The timestep the model was evaluated at.</param>
/// <param name="Latents">The latents after the step (float32).</param>
/// <param name="Denoised">The sampler's estimate of the clean latents x₀ at this step (float32).</param>
public sealed record SamplerProgress(int StepIndex, int Completed, int Total, double Timestep, Tensor Latents, Tensor Denoised);
