namespace SdTune.Workshop.Lora;

/// <summary>What a LoRA tool did to one module.</summary>
/// <param name="Module">The module's kohya name.</param>
/// <param name="InputRank">The rank it had (the sum of the inputs' ranks for a merge; 0 when extracted from models).</param>
/// <param name="Rank">The rank written.</param>
/// <param name="RetainedFrobenius">The fraction of the delta's Frobenius norm the kept singular values hold (1 when nothing was cut).</param>
/// <param name="RelativeError"><c>‖ΔW − ΔW_written‖_F / ‖ΔW‖_F</c>, computed from the written factors (float32, before any save type).</param>
public sealed record LoraModuleReport(string Module, int InputRank, int Rank, double RetainedFrobenius, double RelativeError);
