using SdTune.Adapters.Formats;
using SdTune.Models;

namespace SdTune.Workshop.Lora;

/// <summary>What <see cref="LoraConvert"/> wrote.</summary>
/// <param name="Architecture">The model family the keys were mapped for.</param>
/// <param name="From">The source's layout.</param>
/// <param name="To">The layout written.</param>
/// <param name="Modules">Modules written.</param>
/// <param name="Unmatched">Source tensors that fit no layer or algorithm, left out of the output.</param>
public sealed record LoraConvertResult(SdArchitecture Architecture, LoraLayout From, LoraLayout To, int Modules, IReadOnlyList<string> Unmatched);
