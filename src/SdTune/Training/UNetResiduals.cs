using SdTune.Models.Unet;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>What a method sees to compute UNet residuals for one micro-batch.</summary>
/// <param name="Batch">The micro-batch (each sample's <see cref="TrainingSample.ConditioningImagePath"/> among others).</param>
/// <param name="NoisyLatents">The UNet's input, float32 (B, C, h, w).</param>
/// <param name="Timesteps">Each sample's timestep (B).</param>
/// <param name="Context">The captions' conditioning (B, tokens, dim), in the UNet's dtype.</param>
/// <param name="Added">SDXL's pooled text and time ids; null for SD 1.x/2.x.</param>
public sealed record UNetResidualInputs(TrainingBatch Batch, Tensor NoisyLatents, Tensor Timesteps, Tensor Context, UNetAddedConditions? Added);

/// <summary>Residuals for the UNet, in the shapes <see cref="UNet2DConditionModel.forward(Tensor, Tensor, Tensor, UNetAddedConditions?, IReadOnlyList{Tensor}?, Tensor?, IReadOnlyList{Tensor}?)"/> documents.</summary>
/// <param name="Down">One per skip connection (ControlNet), or null.</param>
/// <param name="Mid">Added to the mid block's output (ControlNet), or null.</param>
/// <param name="DownIntrablock">Added inside the down blocks (T2I-Adapter), or null.</param>
public sealed record UNetResiduals(IReadOnlyList<Tensor>? Down, Tensor? Mid, IReadOnlyList<Tensor>? DownIntrablock);
