using SdTune.Models;

namespace SdTune.Workshop.Lora;

/// <summary>What <see cref="LoraBlockWeightsTool"/> wrote.</summary>
/// <param name="Architecture">The model family the keys were mapped for.</param>
/// <param name="Weights">The block weights applied, as given or as the preset resolved.</param>
/// <param name="Modules">Modules written (each scaled by its block's weight).</param>
/// <param name="Unmatched">Source tensors that fit no layer or algorithm, copied unchanged.</param>
public sealed record LoraBlockWeightsResult(SdArchitecture Architecture, IReadOnlyList<double> Weights, int Modules, IReadOnlyList<string> Unmatched);
