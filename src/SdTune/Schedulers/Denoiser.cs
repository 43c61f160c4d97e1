using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// One model evaluation inside a sampling loop: given the scaled model input and the timestep, return the model's
/// raw output (ε, v or x₀, as the schedule's <see cref="PredictionType"/> says). A pipeline runs classifier-free
/// guidance inside this call (batch the unconditional and conditional halves, combine the outputs).
/// </summary>
/// <param name="modelInput">The latents already scaled for the model (float32, on the latents' device).</param>
/// <param name="timestep">The training timestep to condition on; fractional for the Euler samplers.</param>
/// <param name="stepIndex">Index of this step in <see cref="SamplingPlan.Timesteps"/>.</param>
/// <returns>The model output, same shape as <paramref name="modelInput"/>. Tensors created here are released after the step.</returns>
public delegate Tensor Denoiser(Tensor modelInput, double timestep, int stepIndex);
