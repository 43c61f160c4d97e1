namespace SdTune.Workshop.Lora;

/// <summary>One LoRA of a merge.</summary>
/// <param name="Path">The file (any family the reader knows).</param>
/// <param name="Weight">Its weight in the sum (negative subtracts it).</param>
public sealed record LoraMergeInput(string Path, double Weight = 1.0);
